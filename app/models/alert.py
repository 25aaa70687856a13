"""Alerts raised on an account (a change its owner reported), and the single-use undo links that raise them.

The undo link lives here because its only purpose is to raise an alert: the person a change was
notified to follows it and says "this was not me".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UTCDateTime, new_id, utc_now

ALERT_KINDS: tuple[str, ...] = ("change_reported",)
CHANGE_KINDS: tuple[str, ...] = ("email_change", "phone_change", "mfa_reset")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('change_reported')", name="kind"),
        CheckConstraint("severity IN ('critical')", name="severity"),
        Index("ix_alerts_account", "tenant_id", "account_pk", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="critical")
    change_kind: Mapped[str] = mapped_column(String(32))  # what was reported: one of CHANGE_KINDS
    ticket_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"Alert(id={self.id!r}, kind={self.kind!r})"


class UndoLink(Base):
    """One "was this you?" link. Only the SHA-256 of the token is stored; used_at makes it single-use."""

    __tablename__ = "undo_links"
    __table_args__ = (
        CheckConstraint("change_kind IN ('email_change', 'phone_change', 'mfa_reset')", name="change_kind"),
        Index("ix_undo_links_account", "tenant_id", "account_pk", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the token's random id
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    change_kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alert_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:  # never the token
        return f"UndoLink(id={self.id[:6]!r}…)"
