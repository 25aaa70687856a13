"""The write-back outbox: one row per assessment, claimed by workers, retried, and dead-lettered.

A claim is a lease: the worker sets `claimed_by` and `lease_until` in one UPDATE over rows picked
with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer at a time), so any number of
workers take disjoint rows. A worker that dies mid-write leaves its rows in_progress until the
lease runs out; the next claim picks them up, and the adapter's marker check keeps the note single.
Functions take a Session and never commit.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app.audit import repository as audit
from app.db import insert_missing
from app.errors import Conflict, NotFound
from app.integrations.notes import note_to_json
from app.models.integration import OutboxItem
from integrations.protocol import IntegrationConfig, Note

BASE_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 3600.0


def enqueue(session: Session, integration: IntegrationConfig, ref: str, note: Note, now: datetime) -> None:
    """Queue the write-back of `note` (once: a second enqueue of the same assessment does nothing)."""
    insert_missing(
        session,
        OutboxItem,
        {
            "tenant_id": integration.tenant_id,
            "integration_id": integration.id,
            "assessment_id": note.assessment_id,
            "ref": ref,
            "note": note_to_json(note),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_by": "",
            "last_error": "",
            "created_at": now,
        },
        ["assessment_id"],
    )


def claim(
    session: Session,
    worker: str,
    now: datetime,
    lease_seconds: int,
    limit: int = 10,
    *,
    assessment_id: str | None = None,
) -> list[OutboxItem]:
    """Take up to `limit` due rows (pending and due, or in_progress with an expired lease); only the
    row of `assessment_id` when given."""
    due = or_(
        and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now),
        and_(OutboxItem.status == "in_progress", OutboxItem.lease_until < now),
    )
    if assessment_id is not None:
        due = and_(due, OutboxItem.assessment_id == assessment_id)
    picked = (
        select(OutboxItem.id)
        .where(due)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(picked))
    if not ids:
        return []
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), due)
        .values(
            status="in_progress",
            claimed_by=worker,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=OutboxItem.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    stmt = select(OutboxItem).where(OutboxItem.id.in_(ids), OutboxItem.claimed_by == worker).order_by(OutboxItem.id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _mine(session: Session, item_id: int, worker: str) -> OutboxItem | None:
    """The row if this worker still holds it (a lease taken over by another worker is theirs now)."""
    row = session.get(OutboxItem, item_id, populate_existing=True, with_for_update=True)
    if row is None or row.status != "in_progress" or row.claimed_by != worker:
        return None
    return row


def succeed(session: Session, item_id: int, worker: str, now: datetime) -> bool:
    row = _mine(session, item_id, worker)
    if row is None:
        return False
    row.status, row.done_at, row.lease_until, row.last_error = "done", now, None, ""
    return True


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a helpdesk's Retry-After wins when it asks for longer."""
    delay = min(BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    return max(delay, retry_after or 0.0)


def fail(
    session: Session,
    item_id: int,
    worker: str,
    now: datetime,
    reason: str,
    *,
    retryable: bool,
    retry_after: float | None,
    max_attempts: int,
) -> str:
    """Record a failed attempt: back to pending with a delay, or dead. Returns the new status."""
    row = _mine(session, item_id, worker)
    if row is None:
        return "lost"
    row.last_error = reason[:500]
    row.lease_until = None
    if retryable and row.attempts < max_attempts:
        row.status = "pending"
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts, retry_after))
        return "pending"
    row.status = "dead"
    row.done_at = now
    audit.record(
        session,
        row.tenant_id,
        f"worker:{worker}",
        "writeback_dead_lettered",
        "outbox",
        str(row.id),
        {"integration": row.integration_id, "assessment": row.assessment_id, "attempts": row.attempts},
    )
    return "dead"


def list_items(session: Session, integration_id: str, status: str | None = None, limit: int = 100) -> list[OutboxItem]:
    stmt = select(OutboxItem).where(OutboxItem.integration_id == integration_id)
    if status:
        stmt = stmt.where(OutboxItem.status == status)
    return list(session.scalars(stmt.order_by(OutboxItem.id.desc()).limit(min(limit, 1000))))


def retry(session: Session, integration_id: str, item_id: int, now: datetime, actor: str) -> OutboxItem:
    """Put a dead-lettered write-back back in the queue (after the admin fixed its cause)."""
    row = session.get(OutboxItem, item_id)
    if row is None or row.integration_id != integration_id:
        raise NotFound("no such write-back", code="outbox_item_not_found")
    if row.status != "dead":
        raise Conflict(f"only dead-lettered write-backs can be retried; this one is {row.status}", code="not_dead")
    row.status, row.attempts, row.next_attempt_at, row.done_at = "pending", 0, now, None
    audit.record(session, row.tenant_id, actor, "writeback_requeued", "outbox", str(row.id), {})
    return row
