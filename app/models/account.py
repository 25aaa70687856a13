"""An account on file at the tenant, and its contacts (normalized emails and phones)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import BigIntPK, JSONType, UTCDateTime, utc_now

CONTACT_KINDS: tuple[str, ...] = ("email", "phone")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    external_id: Mapped[str] = mapped_column(String(200))  # the account id used in the API
    name: Mapped[str] = mapped_column(String(300), default="")
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Serialized app.core.ticket.RecentChange dicts (ISO timestamps).
    recent_changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    contacts: Mapped[list[AccountContact]] = relationship(
        back_populates="account",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(AccountContact.position, AccountContact.id)",
    )

    def __repr__(self) -> str:
        return f"Account(id={self.id!r}, tenant_id={self.tenant_id!r})"


class AccountContact(Base):
    """One email or phone on file. `value` is normalized (see app.accounts.repository)."""

    __tablename__ = "account_contacts"
    __table_args__ = (
        UniqueConstraint("account_pk", "kind", "value"),
        CheckConstraint("kind IN ('email', 'phone')", name="kind"),
        Index("ix_account_contacts_lookup", "tenant_id", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    account_pk: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order given at the last upsert

    account: Mapped[Account] = relationship(back_populates="contacts", lazy="raise")

    def __repr__(self) -> str:  # never the value: it is a contact detail
        return f"AccountContact(id={self.id!r}, kind={self.kind!r})"
