"""A ticket as last seen: the normalized payload, who wrote in (as a key), the account it concerns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.account import Account
from app.models.types import BigIntPK, JSONType, UTCDateTime, utc_now


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ticket_id"),
        Index("ix_tickets_account_recent", "tenant_id", "account_pk", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    ticket_id: Mapped[str] = mapped_column(String(200))  # the helpdesk's ticket id
    # sha256 hex of the normalized requester email or external id; never the raw contact.
    requester_key: Mapped[str] = mapped_column(String(64), default="")
    account_pk: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)  # app.core.ticket.Ticket, JSON mode
    last_actions: Mapped[list[str]] = mapped_column(JSONType, default=list)  # requested actions seen
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    account: Mapped[Account | None] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"Ticket(id={self.id!r}, tenant_id={self.tenant_id!r}, ticket_id={self.ticket_id!r})"
