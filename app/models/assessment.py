"""A stored assessment: the full core output, plus the columns needed to query and audit it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.ticket import Ticket
from app.models.types import JSONType, UTCDateTime, new_id, utc_now


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score"),
        CheckConstraint("level IN ('low', 'medium', 'high', 'critical')", name="level"),
        Index("ix_assessments_ticket_created", "tenant_id", "ticket_pk", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # assessment_id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)  # app.core.assessment.Assessment, JSON mode
    rule_pack_hash: Mapped[str] = mapped_column(String(128))
    playbook: Mapped[str] = mapped_column(String(200))  # "<id>@<version>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    ticket: Mapped[Ticket] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"Assessment(id={self.id!r}, level={self.level!r})"
