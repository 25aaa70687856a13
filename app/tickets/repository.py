"""Tickets and their assessments. Functions take a Session and never commit.

Every query is scoped by tenant_id: another tenant's ticket or assessment id finds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core import assessment as core_assessment
from app.core.context import RecentTicket
from app.core.entities import normalize_email
from app.db import insert_missing
from app.errors import Conflict, InvalidInput, NotFound
from app.models.account import Account
from app.models.assessment import Assessment
from app.models.ticket import Ticket
from app.models.types import utc_now

RECENT_TICKETS_LIMIT = 100


def requester_key_for(email: str = "", external_id: str = "") -> str:
    """A stable, non-reversible key of who wrote in: sha256 hex of the normalized email, else of the
    requester's external id; "" when neither is known. The kind is part of the hashed text, so an
    external id that looks like an email cannot collide with that email."""
    if normalized := normalize_email(email):
        return hashlib.sha256(f"email:{normalized}".encode()).hexdigest()
    if cleaned := external_id.strip():
        return hashlib.sha256(f"id:{cleaned}".encode()).hexdigest()
    return ""


def _check_account(tenant_id: str, account: Account | None) -> int | None:
    if account is None:
        return None
    if account.tenant_id != tenant_id:
        raise NotFound("account not found")
    return account.id


def upsert_ticket(
    session: Session,
    tenant_id: str,
    ticket_id: str,
    payload: Mapping[str, Any],
    requester_key: str,
    account: Account | None,
    channel: str,
    actions: Iterable[str] = (),
) -> Ticket:
    """Create the ticket, or update it to what was last seen (created_at is kept).

    `payload` is the normalized ticket in JSON form (`Ticket.model_dump(mode="json")`); `actions` the
    requested actions seen in it.
    """
    if not ticket_id:
        raise InvalidInput("ticket id is empty")
    values: dict[str, Any] = {
        "requester_key": requester_key,
        "account_pk": _check_account(tenant_id, account),
        "channel": channel,
        "payload": dict(payload),
        "last_actions": list(dict.fromkeys(actions)),
    }
    insert_missing(
        session,
        Ticket,
        {"tenant_id": tenant_id, "ticket_id": ticket_id, **values},
        ["tenant_id", "ticket_id"],
    )
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.tenant_id == tenant_id, Ticket.ticket_id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    for field, value in values.items():
        setattr(ticket, field, value)
    session.flush()
    return ticket


def get_ticket(session: Session, tenant_id: str, ticket_id: str) -> Ticket | None:
    return session.scalars(
        select(Ticket).where(Ticket.tenant_id == tenant_id, Ticket.ticket_id == ticket_id)
    ).first()


def recent_tickets_for_account(
    session: Session,
    tenant_id: str,
    account: Account,
    since: datetime,
    exclude_ticket_id: str | None = None,
    limit: int = RECENT_TICKETS_LIMIT,
) -> list[RecentTicket]:
    """Tickets about `account` created at or after `since`, newest first, the current one excluded."""
    if since.tzinfo is None:
        raise InvalidInput("since must be timezone-aware")
    stmt = select(Ticket).where(
        Ticket.tenant_id == tenant_id,
        Ticket.account_pk == account.id,
        Ticket.created_at >= since,
    )
    if exclude_ticket_id is not None:
        stmt = stmt.where(Ticket.ticket_id != exclude_ticket_id)
    rows = session.scalars(stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).all()
    return [
        RecentTicket(
            ticket_id=row.ticket_id,
            created_at=row.created_at,
            requester_key=row.requester_key,
            actions=tuple(row.last_actions),
        )
        for row in rows
    ]


def add_assessment(
    session: Session,
    tenant_id: str,
    ticket: Ticket,
    assessment: core_assessment.Assessment,
    created_at: datetime | None = None,
) -> Assessment:
    """Store an assessment of `ticket`. Its id is the assessment's own `assessment_id`."""
    if ticket.tenant_id != tenant_id:
        raise NotFound("ticket not found")
    if assessment.ticket_id != ticket.ticket_id:
        raise InvalidInput("assessment is of another ticket", details={"ticket_id": ticket.ticket_id})
    if session.get(Assessment, assessment.assessment_id) is not None:
        raise Conflict("assessment already stored", details={"assessment_id": assessment.assessment_id})
    row = Assessment(
        id=assessment.assessment_id,
        tenant_id=tenant_id,
        ticket_pk=ticket.id,
        score=assessment.score,
        level=assessment.level,
        body=assessment.model_dump(mode="json"),
        rule_pack_hash=assessment.versions.rule_packs,
        playbook=assessment.versions.playbook,
        created_at=created_at or utc_now(),
    )
    session.add(row)
    session.flush()
    return row


def get_assessment(session: Session, tenant_id: str, assessment_id: str) -> Assessment | None:
    return session.scalars(
        select(Assessment).where(Assessment.tenant_id == tenant_id, Assessment.id == assessment_id)
    ).first()


def latest_assessment_for_ticket(session: Session, tenant_id: str, ticket_id: str) -> Assessment | None:
    """The newest assessment of the ticket with external id `ticket_id`, if any."""
    stmt = (
        select(Assessment)
        .join(Ticket, Ticket.id == Assessment.ticket_pk)
        .where(
            Assessment.tenant_id == tenant_id,
            Ticket.tenant_id == tenant_id,
            Ticket.ticket_id == ticket_id,
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def assessment_from_row(row: Assessment) -> core_assessment.Assessment:
    """The core Assessment stored in `row` (validated again on the way out)."""
    return core_assessment.Assessment.model_validate(row.body)
