"""initial schema: tenants, accounts and contacts, verification events, tickets, assessments, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here (not imported from app.models) so that later model changes cannot alter history.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("domains", JSON, nullable=False),
        sa.Column("playbook", sa.String(100), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )

    op.create_table(
        "accounts",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("recent_changes", JSON, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_accounts_tenant_id_tenants"),
        sa.UniqueConstraint("tenant_id", "external_id", name="uq_accounts_tenant_id_external_id"),
    )

    op.create_table(
        "account_contacts",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_contacts"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_account_contacts_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["accounts.id"],
            name="fk_account_contacts_account_pk_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "account_pk", "kind", "value", name="uq_account_contacts_account_pk_kind_value"
        ),
        sa.CheckConstraint("kind IN ('email', 'phone')", name="ck_account_contacts_kind"),
    )
    op.create_index("ix_account_contacts_lookup", "account_contacts", ["tenant_id", "kind", "value"])

    op.create_table(
        "verification_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("strength", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _ts("verified_at"),
        _ts("expires_at"),
        sa.Column("evidence_ref", sa.String(500), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_verification_events"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_verification_events_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["accounts.id"],
            name="fk_verification_events_account_pk_accounts",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("strength BETWEEN 1 AND 3", name="ck_verification_events_strength"),
    )
    op.create_index(
        "ix_verification_events_account",
        "verification_events",
        ["tenant_id", "account_pk", "expires_at"],
    )

    op.create_table(
        "tickets",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("requester_key", sa.String(64), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("last_actions", JSON, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_tickets_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["account_pk"], ["accounts.id"], name="fk_tickets_account_pk_accounts", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("tenant_id", "ticket_id", name="uq_tickets_tenant_id_ticket_id"),
    )
    op.create_index("ix_tickets_account_recent", "tickets", ["tenant_id", "account_pk", "created_at"])

    op.create_table(
        "assessments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("ticket_pk", BIGINT_PK, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("rule_pack_hash", sa.String(128), nullable=False),
        sa.Column("playbook", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_assessments_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["ticket_pk"], ["tickets.id"], name="fk_assessments_ticket_pk_tickets", ondelete="CASCADE"
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_assessments_score"),
        sa.CheckConstraint(
            "level IN ('low', 'medium', 'high', 'critical')", name="ck_assessments_level"
        ),
    )
    op.create_index(
        "ix_assessments_ticket_created", "assessments", ["tenant_id", "ticket_pk", "created_at"]
    )

    op.create_table(
        "audit_entries",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("subject_type", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_audit_entries_tenant_id_tenants"
        ),
    )
    op.create_index("ix_audit_entries_tenant_at", "audit_entries", ["tenant_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_tenant_at", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index("ix_assessments_ticket_created", table_name="assessments")
    op.drop_table("assessments")
    op.drop_index("ix_tickets_account_recent", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_verification_events_account", table_name="verification_events")
    op.drop_table("verification_events")
    op.drop_index("ix_account_contacts_lookup", table_name="account_contacts")
    op.drop_table("account_contacts")
    op.drop_table("accounts")
    op.drop_table("tenants")
