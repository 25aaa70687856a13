"""A tenant: one customer of Deskguard (one helpdesk installation), the scope of every other row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import JSONType, UTCDateTime, utc_now

DEFAULT_PLAYBOOK = "consumer"


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # a slug, e.g. "acme"
    name: Mapped[str] = mapped_column(String(300))
    domains: Mapped[list[str]] = mapped_column(JSONType, default=list)  # the tenant's own domains
    playbook: Mapped[str] = mapped_column(String(100), default=DEFAULT_PLAYBOOK)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def __repr__(self) -> str:
        return f"Tenant(id={self.id!r})"
