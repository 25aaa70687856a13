"""A request for a second person (an approver) to approve a sensitive action on an account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UTCDateTime, new_id, utc_now

APPROVAL_STATUSES: tuple[str, ...] = ("pending", "approved", "rejected")


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        Index("ix_approval_requests_status", "tenant_id", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))  # one of app.core.vocabulary.ACTIONS
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[str] = mapped_column(String(200))  # the requester's token subject
    requested_role: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(200))  # the approver's token subject
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_event_id: Mapped[str | None] = mapped_column(String(36))  # set when approved
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"ApprovalRequest(id={self.id!r}, status={self.status!r})"
