"""one-time verification codes: verification_challenges

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "verification_challenges",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("account_pk", BIGINT_PK, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("contact_index", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("provider_ref", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _ts("expires_at"),
        _ts("created_at"),
        _ts("used_at", nullable=True),
        sa.Column("verification_event_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_verification_challenges"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_verification_challenges_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["accounts.id"],
            name="fk_verification_challenges_account_pk_accounts",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("method IN ('email_code', 'sms_code')", name="ck_verification_challenges_method"),
        sa.CheckConstraint("status IN ('pending', 'satisfied', 'exhausted')", name="ck_verification_challenges_status"),
    )
    op.create_index(
        "ix_verification_challenges_account",
        "verification_challenges",
        ["tenant_id", "account_pk", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_verification_challenges_account", table_name="verification_challenges")
    op.drop_table("verification_challenges")
