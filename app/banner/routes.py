"""The banner page, its static files, banner sessions and the session-scoped banner API.

GET  /banner                         HTML shell (no ticket data), strict CSP
GET  /banner/static/{name}           banner.js, banner.css
POST /v1/banner/session              admin/agent bearer + {"ticket_id"} -> session
POST /v1/banner/app-session          helpdesk app token + {"integration_id", "kind", "ticket_id"} -> session
GET  /v1/banner/assessment?ticket_id   current assessment (banner session)
GET  /v1/banner/ticket?ticket_id       ticket subject and message texts (banner session)
POST /v1/banner/feedback             {"ticket_id", "verdict", "comment"} -> stored feedback
POST /v1/banner/escalate             {"ticket_id"} -> audit entry
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.assessments import service as assessments
from app.audit import repository as audit
from app.auth import Principal, require_roles
from app.banner.auth import BannerSession, app_claims, banner_session, issue_session
from app.banner.page import page_headers, render_page
from app.core.assessment import Assessment
from app.core.ticket import Ticket
from app.errors import Forbidden, NotFound
from app.integrations.service import config_of, get_row
from app.logging import get_logger
from app.models.feedback import Feedback
from app.runtime import Runtime, get_runtime, utc_now
from app.settings import Settings, get_settings
from app.tickets import repository as tickets

log = get_logger(__name__)
router = APIRouter(tags=["banner"])
STATIC_DIR = FilePath(__file__).parent / "static"
_STATIC = {"banner.js": "text/javascript", "banner.css": "text/css"}
TicketId = Query(min_length=1, max_length=200)


class SessionIn(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=200)


class AppSessionIn(SessionIn):
    integration_id: str = Field(min_length=1, max_length=36)
    kind: Literal["zendesk_signed_url", "shared_secret"]
    token: str = Field(min_length=1, max_length=8000)


class SessionOut(BaseModel):
    token: str
    expires_in: int
    tenant: str
    ticket_id: str


class TicketMessageOut(BaseModel):
    author: str
    body: str


class TicketTextOut(BaseModel):
    ticket_id: str
    subject: str
    messages: list[TicketMessageOut]


class FeedbackIn(SessionIn):
    verdict: Literal["attack", "legitimate", "unsure"]
    comment: str = Field(default="", max_length=1000)


class FeedbackOut(BaseModel):
    id: str
    assessment_id: str
    ticket_id: str
    verdict: str


class EscalateOut(BaseModel):
    ticket_id: str
    escalated: bool = True


@router.get("/banner", response_class=HTMLResponse, include_in_schema=False)
async def banner_page(settings: Settings = Depends(get_settings)) -> HTMLResponse:
    return HTMLResponse(render_page(), headers=page_headers(settings))


@router.get("/banner/static/{name}", include_in_schema=False)
async def banner_static(name: str, settings: Settings = Depends(get_settings)) -> FileResponse:
    if name not in _STATIC:
        raise NotFound("no such file", code="not_found")
    return FileResponse(STATIC_DIR / name, media_type=_STATIC[name], headers=page_headers(settings))


@router.post("/v1/banner/session", response_model=SessionOut, status_code=201)
async def dev_session(
    body: SessionIn,
    principal: Principal = Depends(require_roles("admin", "agent")),
    settings: Settings = Depends(get_settings),
) -> SessionOut:
    token, ttl = issue_session(settings, tenant=principal.tenant, subject=principal.subject, ticket_id=body.ticket_id)
    return SessionOut(token=token, expires_in=ttl, tenant=principal.tenant, ticket_id=body.ticket_id)


def _app_session(session: Session, runtime: Runtime, body: AppSessionIn) -> SessionOut:
    row = get_row(session, body.integration_id)
    if not row.enabled:
        raise NotFound("integration not found", code="integration_not_found")
    config = config_of(runtime.vault, row)
    claims = app_claims(config.options, config.credentials, body.token, body.kind)
    claimed_tenant = claims.get("tenant")
    if claimed_tenant is not None and claimed_tenant != row.tenant_id:
        raise Forbidden("The token belongs to another tenant.", code="tenant_mismatch")
    ticket_id = body.ticket_id if ":" in body.ticket_id else f"{row.provider}:{body.ticket_id}"
    claimed_ticket = claims.get("ticket_id")
    if claimed_ticket is not None and str(claimed_ticket) not in (body.ticket_id, ticket_id):
        raise Forbidden("The token was issued for another ticket.", code="ticket_mismatch")
    subject = f"{row.provider}:{claims['sub']}"
    token, ttl = issue_session(runtime.settings, tenant=row.tenant_id, subject=subject, ticket_id=ticket_id)
    audit.record(session, row.tenant_id, subject, "banner_session_opened", "integration", row.id)
    return SessionOut(token=token, expires_in=ttl, tenant=row.tenant_id, ticket_id=ticket_id)


@router.post("/v1/banner/app-session", response_model=SessionOut, status_code=201)
async def app_session(body: AppSessionIn, runtime: Runtime = Depends(get_runtime)) -> SessionOut:
    return await runtime.run(lambda s: _app_session(s, runtime, body))


@router.get("/v1/banner/assessment", response_model=Assessment)
async def banner_assessment(
    ticket_id: str = TicketId,
    bs: BannerSession = Depends(banner_session),
    runtime: Runtime = Depends(get_runtime),
) -> Assessment:
    bs.require_ticket(ticket_id)
    now = utc_now()
    return await runtime.run(lambda s: assessments.current_assessment(s, runtime.assessor, bs.tenant, ticket_id, now))


def _ticket_text(session: Session, tenant: str, ticket_id: str) -> TicketTextOut:
    row = tickets.get_ticket(session, tenant, ticket_id)
    if row is None:
        raise NotFound("ticket not found", code="ticket_not_found")
    ticket = Ticket.model_validate(row.payload)
    messages = [TicketMessageOut(author=m.author, body=m.body) for m in ticket.messages]
    return TicketTextOut(ticket_id=ticket_id, subject=ticket.subject, messages=messages)


@router.get("/v1/banner/ticket", response_model=TicketTextOut)
async def banner_ticket(
    ticket_id: str = TicketId,
    bs: BannerSession = Depends(banner_session),
    runtime: Runtime = Depends(get_runtime),
) -> TicketTextOut:
    bs.require_ticket(ticket_id)
    return await runtime.run(lambda s: _ticket_text(s, bs.tenant, ticket_id))


def _feedback(session: Session, bs: BannerSession, body: FeedbackIn) -> FeedbackOut:
    latest = tickets.latest_assessment_for_ticket(session, bs.tenant, body.ticket_id)
    if latest is None:
        raise NotFound("no assessment for this ticket", code="assessment_not_found")
    row = Feedback(
        tenant_id=bs.tenant,
        assessment_id=latest.id,
        ticket_id=body.ticket_id,
        verdict=body.verdict,
        comment=body.comment,
        actor=bs.subject,
    )
    session.add(row)
    session.flush()
    audit.record(session, bs.tenant, bs.subject, "banner_feedback", "assessment", latest.id, {"feedback_id": row.id})
    log.info("banner_feedback", tenant=bs.tenant, assessment_id=latest.id, verdict=body.verdict)
    return FeedbackOut(id=row.id, assessment_id=latest.id, ticket_id=body.ticket_id, verdict=row.verdict)


@router.post("/v1/banner/feedback", response_model=FeedbackOut, status_code=201)
async def banner_feedback(
    body: FeedbackIn,
    bs: BannerSession = Depends(banner_session),
    runtime: Runtime = Depends(get_runtime),
) -> FeedbackOut:
    bs.require_ticket(body.ticket_id)
    return await runtime.run(lambda s: _feedback(s, bs, body))


def _escalate(session: Session, bs: BannerSession, ticket_id: str) -> EscalateOut:
    latest = tickets.latest_assessment_for_ticket(session, bs.tenant, ticket_id)
    if latest is None:
        raise NotFound("no assessment for this ticket", code="assessment_not_found")
    audit.record(session, bs.tenant, bs.subject, "banner_escalated", "assessment", latest.id)
    return EscalateOut(ticket_id=ticket_id)


@router.post("/v1/banner/escalate", response_model=EscalateOut, status_code=201)
async def banner_escalate(
    body: SessionIn,
    bs: BannerSession = Depends(banner_session),
    runtime: Runtime = Depends(get_runtime),
) -> EscalateOut:
    bs.require_ticket(body.ticket_id)
    return await runtime.run(lambda s: _escalate(s, bs, body.ticket_id))
