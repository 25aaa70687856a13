"""Score a ticket and store it; read assessments back with step statuses against current verifications.

Services never commit: the request (or CLI command) that owns the session does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.assessments.context import stored_context, verification_context
from app.audit import repository as audit
from app.core.assessment import Assessment
from app.core.engine import Assessor, Job, reevaluate
from app.core.ticket import Ticket
from app.errors import Forbidden, NotFound
from app.logging import get_logger
from app.models.tenant import Tenant
from app.tenants import repository as tenants
from app.tickets import repository as tickets

log = get_logger(__name__)


def new_assessment_id() -> str:
    return uuid.uuid4().hex


def tenant_for(session: Session, tenant_id: str, ticket: Ticket | None = None) -> Tenant:
    if ticket is not None and ticket.tenant and ticket.tenant != tenant_id:
        raise Forbidden("the ticket names another tenant than your token", code="tenant_mismatch")
    tenant = tenants.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id!r} does not exist", code="tenant_not_found")
    return tenant


def score_tickets(
    session: Session, assessor: Assessor, tenant_id: str, batch: list[Ticket], now: datetime, actor: str
) -> list[Assessment]:
    """Assess and store each ticket (one spaCy pass per ticket, batched)."""
    jobs, snapshots = [], []
    for ticket in batch:
        tenant = tenant_for(session, tenant_id, ticket)
        snapshot = stored_context(session, tenant, ticket, now)
        snapshots.append(snapshot)
        jobs.append(Job(ticket, snapshot.context, new_assessment_id()))
    results = assessor.assess_many(jobs)
    for job, snapshot, assessment in zip(jobs, snapshots, results, strict=True):
        row = tickets.upsert_ticket(
            session,
            tenant_id,
            job.ticket.ticket_id,
            job.ticket.model_dump(mode="json"),
            snapshot.requester_key,
            snapshot.account,
            job.ticket.channel,
            [a.action for a in assessment.actions],
        )
        tickets.add_assessment(session, tenant_id, row, assessment, created_at=now)
        audit.record(
            session,
            tenant_id,
            actor,
            "ticket_assessed",
            "assessment",
            assessment.assessment_id,
            {
                "ticket_id": job.ticket.ticket_id,
                "level": assessment.level,
                "score": assessment.score,
                "rule_packs": assessment.versions.rule_packs,
            },
        )
        log.info(
            "ticket_assessed",
            tenant=tenant_id,
            assessment_id=assessment.assessment_id,
            level=assessment.level,
            score=assessment.score,
            signals=len(assessment.signals),
        )
    return results


def get_assessment(session: Session, tenant_id: str, assessment_id: str) -> Assessment:
    row = tickets.get_assessment(session, tenant_id, assessment_id)
    if row is None:
        raise NotFound("assessment not found", code="assessment_not_found")
    return tickets.assessment_from_row(row)


def current_assessment(
    session: Session, assessor: Assessor, tenant_id: str, ticket_id: str, now: datetime
) -> Assessment:
    """The latest assessment of a ticket, its steps re-evaluated against verification events valid now."""
    row = tickets.latest_assessment_for_ticket(session, tenant_id, ticket_id)
    ticket_row = tickets.get_ticket(session, tenant_id, ticket_id)
    if row is None or ticket_row is None:
        raise NotFound("no assessment for this ticket", code="assessment_not_found")
    stored = tickets.assessment_from_row(row)
    ticket = Ticket.model_validate(ticket_row.payload)
    return reevaluate(assessor, stored, verification_context(session, ticket, tenant_id, now))
