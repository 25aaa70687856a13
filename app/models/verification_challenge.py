"""A one-time code sent to a contact on file, waiting to be checked (email or SMS).

Only an HMAC of an email code is stored, never the code; SMS codes live at the provider and the
challenge keeps the provider's reference. Attempts, expiry and single use are enforced here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.account import Account
from app.models.types import UTCDateTime, new_id, utc_now

CHALLENGE_METHODS: tuple[str, ...] = ("email_code", "sms_code")
CHALLENGE_STATUSES: tuple[str, ...] = ("pending", "satisfied", "exhausted")


class VerificationChallenge(Base):
    __tablename__ = "verification_challenges"
    __table_args__ = (
        CheckConstraint("method IN ('email_code', 'sms_code')", name="method"),
        CheckConstraint("status IN ('pending', 'satisfied', 'exhausted')", name="status"),
        Index("ix_verification_challenges_account", "tenant_id", "account_pk", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(200))
    contact_index: Mapped[int] = mapped_column(Integer)  # which email/phone on file, never its value
    code_hash: Mapped[str] = mapped_column(String(64), default="")  # HMAC-SHA256 hex (email codes)
    provider_ref: Mapped[str] = mapped_column(String(200), default="")  # the SMS provider's reference
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_event_id: Mapped[str | None] = mapped_column(String(36))

    account: Mapped[Account] = relationship(lazy="raise")

    def __repr__(self) -> str:  # never the hash or the provider reference
        return f"VerificationChallenge(id={self.id!r}, method={self.method!r}, status={self.status!r})"
