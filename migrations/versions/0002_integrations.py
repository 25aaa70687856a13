"""helpdesk integrations: integrations, webhook deliveries, write-back outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("credentials_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("credential_names", JSON, nullable=False),
        sa.Column("api_base_url", sa.String(500), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_integrations_tenant_id_tenants"),
    )
    op.create_index("ix_integrations_tenant", "integrations", ["tenant_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("integration_id", sa.String(36), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("assessment_id", sa.String(36), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        _ts("received_at"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_deliveries_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name="fk_deliveries_integration_id_integrations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("integration_id", "delivery_id", name="uq_deliveries_integration_id_delivery_id"),
        sa.CheckConstraint(
            "status IN ('assessed', 'unchanged', 'ignored', 'rejected')", name="ck_deliveries_status"
        ),
    )
    op.create_index("ix_deliveries_integration_received", "deliveries", ["integration_id", "received_at"])
    op.create_table(
        "outbox",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("integration_id", sa.String(36), nullable=False),
        sa.Column("assessment_id", sa.String(36), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("note", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("claimed_by", sa.String(100), nullable=False),
        _ts("lease_until", nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        _ts("created_at"),
        _ts("done_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_outbox_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integrations.id"], name="fk_outbox_integration_id_integrations", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("assessment_id", name="uq_outbox_assessment_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'done', 'dead')", name="ck_outbox_status"
        ),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_integration", "outbox", ["integration_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_integration", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_deliveries_integration_received", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_integrations_tenant", table_name="integrations")
    op.drop_table("integrations")
