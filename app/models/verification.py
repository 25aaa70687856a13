"""A recorded verification event: proof that a method succeeded for an account, valid for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.account import Account
from app.models.types import UTCDateTime, new_id, utc_now


class VerificationEvent(Base):
    __tablename__ = "verification_events"
    __table_args__ = (
        CheckConstraint("strength BETWEEN 1 AND 3", name="strength"),
        Index("ix_verification_events_account", "tenant_id", "account_pk", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(64))  # one of app.core.vocabulary.VERIFICATION_METHODS
    strength: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))  # who recorded it (agent id, "system", ...)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    evidence_ref: Mapped[str] = mapped_column(String(500), default="")  # an id, never the code itself
    ticket_id: Mapped[str | None] = mapped_column(String(200))  # the external ticket id, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    account: Mapped[Account] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"VerificationEvent(id={self.id!r}, method={self.method!r})"
