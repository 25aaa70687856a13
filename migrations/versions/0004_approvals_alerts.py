"""manager approvals, notify-and-undo: approval_requests, alerts, undo_links

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants")


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_pk"], ["accounts.id"], name=f"fk_{table}_account_pk_accounts", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_role", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("verification_event_id", sa.String(36), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_approval_requests"),
        _tenant_fk("approval_requests"),
        _account_fk("approval_requests"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_approval_requests_status"),
    )
    op.create_index("ix_approval_requests_status", "approval_requests", ["tenant_id", "status", "created_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("change_kind", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        _tenant_fk("alerts"),
        _account_fk("alerts"),
        sa.CheckConstraint("kind IN ('change_reported')", name="ck_alerts_kind"),
        sa.CheckConstraint("severity IN ('critical')", name="ck_alerts_severity"),
    )
    op.create_index("ix_alerts_account", "alerts", ["tenant_id", "account_pk", "created_at"])
    op.create_table(
        "undo_links",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("change_kind", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.Column("alert_id", sa.String(36), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_undo_links"),
        _tenant_fk("undo_links"),
        _account_fk("undo_links"),
        sa.CheckConstraint(
            "change_kind IN ('email_change', 'phone_change', 'mfa_reset')", name="ck_undo_links_change_kind"
        ),
    )
    op.create_index("ix_undo_links_account", "undo_links", ["tenant_id", "account_pk", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_undo_links_account", table_name="undo_links")
    op.drop_table("undo_links")
    op.drop_index("ix_alerts_account", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_approval_requests_status", table_name="approval_requests")
    op.drop_table("approval_requests")
