"""POST /v1/score, GET /v1/assessments/{id}, GET /v1/tickets/{ticket_id}/assessment."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from app.assessments import service
from app.auth import Principal, current_principal, require_roles
from app.core.assessment import Assessment
from app.core.ticket import Ticket
from app.runtime import Runtime, get_runtime, utc_now

router = APIRouter(prefix="/v1", tags=["assessments"])


@router.post("/score", response_model=Assessment, status_code=201)
async def score(
    ticket: Ticket,
    principal: Principal = Depends(require_roles("service", "admin", "security", "agent")),
    runtime: Runtime = Depends(get_runtime),
) -> Assessment:
    now = utc_now()
    actor = f"{principal.role}:{principal.subject}"
    results = await runtime.run(
        lambda s: service.score_tickets(s, runtime.assessor, principal.tenant, [ticket], now, actor)
    )
    return results[0]


@router.get("/assessments/{assessment_id}", response_model=Assessment)
async def get_assessment(
    assessment_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(current_principal),
    runtime: Runtime = Depends(get_runtime),
) -> Assessment:
    return await runtime.run(lambda s: service.get_assessment(s, principal.tenant, assessment_id))


@router.get("/tickets/{ticket_id}/assessment", response_model=Assessment)
async def ticket_assessment(
    ticket_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(current_principal),
    runtime: Runtime = Depends(get_runtime),
) -> Assessment:
    now = utc_now()
    return await runtime.run(
        lambda s: service.current_assessment(s, runtime.assessor, principal.tenant, ticket_id, now)
    )
