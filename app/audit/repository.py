"""The audit trail: append and read, tenant by tenant. Functions take a Session and never commit.

Details hold ids, hashes, versions and counts: never ticket text or contact details. An email
address anywhere in `details` is refused as a backstop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.models.audit import AuditEntry
from app.models.types import utc_now

EVENT_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")  # snake_case, at least two words
EMAIL_LIKE = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[a-z]{2,}", re.IGNORECASE)
MAX_LIST_LIMIT = 1_000


def _find_email(value: Any) -> bool:
    if isinstance(value, str):
        return EMAIL_LIKE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_find_email(k) or _find_email(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_find_email(v) for v in value)
    return False


def record(
    session: Session,
    tenant_id: str,
    actor: str,
    event: str,
    subject_type: str,
    subject_id: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry, e.g. record(s, "acme", "agent:42", "verification_recorded", "account", "A-1")."""
    if not EVENT_NAME.match(event):
        raise InvalidInput("audit event must be snake_case, e.g. ticket_assessed", details={"event": event})
    body = dict(details or {})
    if _find_email(body) or _find_email(subject_id):
        raise InvalidInput("audit entries hold ids and hashes, never contact details")
    entry = AuditEntry(
        tenant_id=tenant_id,
        at=at or utc_now(),
        actor=actor,
        event=event,
        subject_type=subject_type,
        subject_id=subject_id,
        details=body,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(session: Session, tenant_id: str, limit: int = 100) -> list[AuditEntry]:
    """The tenant's newest entries first (at most `limit`, capped at 1,000)."""
    limit = max(1, min(limit, MAX_LIST_LIMIT))
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
