"""An agent's verdict on an assessment, sent from the banner: attack, legitimate or unsure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UTCDateTime, new_id, utc_now

FEEDBACK_VERDICTS: tuple[str, ...] = ("attack", "legitimate", "unsure")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("verdict IN ('attack', 'legitimate', 'unsure')", name="verdict"),
        Index("ix_feedback_assessment", "tenant_id", "assessment_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    actor: Mapped[str] = mapped_column(String(200))  # "<provider or deskguard>:<agent id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"Feedback(id={self.id!r}, verdict={self.verdict!r})"
