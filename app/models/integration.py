"""Installed helpdesk integrations, the webhook deliveries they received, and the write-back outbox.

Secrets and API credentials are stored encrypted (app.integrations.crypto); nothing here holds them
in the clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import BigIntPK, JSONType, UTCDateTime, utc_now

DELIVERY_STATUSES = ("assessed", "unchanged", "ignored", "rejected")
OUTBOX_STATUSES = ("pending", "in_progress", "done", "dead")


class Integration(Base):
    __tablename__ = "integrations"
    __table_args__ = (Index("ix_integrations_tenant", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random, part of the webhook URL
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    provider: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)  # JSON object, encrypted
    credential_names: Mapped[list[str]] = mapped_column(JSONType, default=list)  # which are set, for display
    api_base_url: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    def __repr__(self) -> str:
        return f"Integration(id={self.id!r}, provider={self.provider!r})"


class Delivery(Base):
    """One verified webhook delivery, unique per integration and vendor delivery id (idempotency)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("integration_id", "delivery_id"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        Index("ix_deliveries_integration_received", "integration_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[str] = mapped_column(String(200), default="")  # Deskguard's id: "<provider>:<ref>"
    assessment_id: Mapped[str | None] = mapped_column(String(36))
    error_code: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")  # why ignored or rejected
    payload: Mapped[str | None] = mapped_column(Text)  # kept only for rejected deliveries, to inspect
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"Delivery(id={self.id!r}, status={self.status!r})"


class OutboxItem(Base):
    """One write-back (note, tags, field) for one assessment; the worker claims, sends and retires it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("assessment_id"),
        CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_integration", "integration_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    assessment_id: Mapped[str] = mapped_column(String(36))
    ref: Mapped[str] = mapped_column(String(200))  # the helpdesk's ticket or conversation id
    note: Mapped[dict[str, Any]] = mapped_column(JSONType)  # integrations.protocol.Note as JSON
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"OutboxItem(id={self.id!r}, status={self.status!r})"
