"""banner feedback: feedback

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(100), nullable=False),
        sa.Column("assessment_id", sa.String(36), nullable=False),
        sa.Column("ticket_id", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_feedback_tenant_id_tenants"),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name="fk_feedback_assessment_id_assessments", ondelete="CASCADE"
        ),
        sa.CheckConstraint("verdict IN ('attack', 'legitimate', 'unsure')", name="ck_feedback_verdict"),
    )
    op.create_index("ix_feedback_assessment", "feedback", ["tenant_id", "assessment_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_assessment", table_name="feedback")
    op.drop_table("feedback")
