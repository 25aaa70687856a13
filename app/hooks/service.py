"""A webhook delivery, from raw bytes to a stored assessment and a queued write-back.

    receive ─> integration (404) ─> IP allowlist (403) ─> signature (401, nothing stored)
            ─> JSON + parse (422, stored as `rejected` for the admin) ─> earlier delivery? (its result)
            ─> complete over the helpdesk API (Zendesk's thin events) ─> one transaction:
               delivery row (unique per integration + delivery id) ─> unchanged requester text? (no
               new assessment: this is how Deskguard's own notes and tag updates end) ─> assess,
               store, audit ─> outbox row (unique per assessment)

The ticket is stored as "<provider>:<helpdesk id>", so two helpdesks of one tenant never collide.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.assessments.service import score_tickets
from app.core.assessment import Assessment
from app.core.engine import Assessor
from app.core.ticket import Ticket
from app.errors import DeskguardError, Forbidden, InvalidInput, NotFound, Unauthorized
from app.integrations import outbox
from app.integrations.crypto import Vault
from app.integrations.notes import build_note
from app.integrations.service import config_of
from app.logging import get_logger
from app.models.integration import Delivery, Integration
from app.tickets import repository as tickets
from integrations.base import body_digest
from integrations.http import WriteBackError
from integrations.protocol import (
    Adapter,
    InboundRequest,
    IntegrationConfig,
    Parsed,
    PayloadError,
    SignatureError,
)
from integrations.registry import adapter_for

log = get_logger(__name__)
MAX_STORED_PAYLOAD = 256 * 1024
# A helpdesk's ticket or conversation id: it ends up in API paths, so no slashes and no dot segments.
SAFE_REF = re.compile(r"(?!\.{1,2}\Z)[A-Za-z0-9._:@-]{1,200}")


class HookResult(BaseModel):
    status: str  # assessed | unchanged | ignored | duplicate | challenge
    delivery_id: str
    ticket_id: str = ""
    assessment_id: str | None = None
    level: str | None = None
    score: int | None = None
    headline: str | None = None
    detail: str = ""
    challenge: str | None = None  # echoed for a helpdesk's URL validation (Front's X-Front-Challenge)


class HelpdeskUnavailable(DeskguardError):
    """The helpdesk's API did not answer while completing a thin event: the vendor should retry."""

    status_code = 503
    code = "helpdesk_unavailable"


@dataclass(frozen=True)
class Prepared:
    integration: IntegrationConfig
    adapter: Adapter
    delivery_id: str
    parsed: Parsed | None  # None: answered already (`result`) or refused (`rejection`)
    result: HookResult | None = None
    rejection: InvalidInput | None = None  # raised by the caller after the rejected delivery is committed


def ticket_key(provider: str, ref: str) -> str:
    return f"{provider}:{ref}"


def content_fingerprint(ticket: Ticket) -> str:
    """What an assessment depends on in the ticket: the requester's words and contacts, not tags or
    agent replies. The same fingerprint twice means there is nothing new to assess."""
    basis = {
        "subject": ticket.subject,
        "messages": [m.body for _, m in ticket.requester_messages()],
        "requester": ticket.requester.model_dump(mode="json"),
        "account": ticket.account.model_dump(mode="json") if ticket.account else None,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def _check_ip(config: IntegrationConfig, client_ip: str) -> None:
    allowed = config.options.get("ip_allowlist") or []
    if not allowed:
        return
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        raise Forbidden("the caller's address is not on this integration's allowlist", code="ip_not_allowed") from None
    if not any(address in ipaddress.ip_network(net) for net in allowed):
        raise Forbidden("the caller's address is not on this integration's allowlist", code="ip_not_allowed")


def _reject(session: Session, row: Integration, delivery_id: str, body: bytes, error: PayloadError) -> None:
    values = {
        "tenant_id": row.tenant_id,
        "integration_id": row.id,
        "delivery_id": delivery_id,
        "status": "rejected",
        "error_code": error.code,
        "detail": error.message[:500],
        "payload": body[:MAX_STORED_PAYLOAD].decode("utf-8", errors="replace"),
    }
    _insert_delivery(session, values)


def _insert_delivery(session: Session, values: Mapping[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if the delivery was
    already recorded (on PostgreSQL a concurrent insert of the same delivery waits for the first)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Delivery)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=["integration_id", "delivery_id"])
        .returning(Delivery.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def _earlier(session: Session, integration_id: str, delivery_id: str) -> HookResult | None:
    row = session.scalars(
        select(Delivery).where(Delivery.integration_id == integration_id, Delivery.delivery_id == delivery_id)
    ).one_or_none()
    if row is None:
        return None
    return HookResult(
        status="duplicate",
        delivery_id=delivery_id,
        ticket_id=row.ticket_id,
        assessment_id=row.assessment_id,
        detail=f"delivered before: {row.status}",
    )


def find_enabled(session: Session, provider: str, integration_id: str) -> tuple[Adapter, Integration]:
    adapter = adapter_for(provider)
    row = session.get(Integration, integration_id) if adapter is not None else None
    if adapter is None or row is None or row.provider != provider:
        raise NotFound("no such integration", code="integration_not_found")
    if not row.enabled:
        raise NotFound("this integration is disabled", code="integration_disabled")
    return adapter, row


def prepare(
    session: Session, vault: Vault, provider: str, integration_id: str, request: InboundRequest, now: float
) -> Prepared:
    """Everything before the helpdesk API and the assessor: find, verify, parse, dedupe."""
    adapter, row = find_enabled(session, provider, integration_id)
    config = config_of(vault, row)
    _check_ip(config, request.client_ip)
    try:
        adapter.verify(request, config, now)
    except SignatureError as exc:
        log.warning("webhook_refused", provider=provider, integration=integration_id, code=exc.code)
        raise Unauthorized(exc.message, code=exc.code) from None
    payload: Any = None
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        payload = json.loads(request.body)
    if not isinstance(payload, dict):
        error = PayloadError("the body is not a JSON object", code="payload_not_json")
        return _rejected(session, row, config, adapter, body_digest(request.body), request.body, error)
    challenge = adapter.challenge(request, payload)
    if challenge:  # a verified URL-validation request: answer it, store nothing
        return Prepared(config, adapter, "", None, HookResult(status="challenge", delivery_id="", challenge=challenge))
    try:
        delivery_id = (adapter.delivery_id(request, payload) or body_digest(request.body))[:200]
    except Exception as exc:  # an adapter must never turn a vendor's odd payload into a 500
        log.error("adapter_failed", provider=provider, step="delivery_id", error=type(exc).__name__)
        delivery_id = body_digest(request.body)
    earlier = _earlier(session, row.id, delivery_id)
    if earlier is not None:
        return Prepared(config, adapter, delivery_id, None, earlier)
    try:
        parsed = adapter.parse(payload, config)
    except PayloadError as exc:
        return _rejected(session, row, config, adapter, delivery_id, request.body, exc)
    except Exception as exc:
        log.error("adapter_failed", provider=provider, step="parse", error=type(exc).__name__)
        error = PayloadError(f"the {adapter.title} payload could not be read", code="payload_invalid")
        return _rejected(session, row, config, adapter, delivery_id, request.body, error)
    if parsed.ticket is not None and not SAFE_REF.fullmatch(parsed.ref):
        error = PayloadError("the payload names no usable ticket or conversation id", code="payload_invalid")
        return _rejected(session, row, config, adapter, delivery_id, request.body, error)
    return Prepared(config, adapter, delivery_id, parsed)


def _rejected(
    session: Session,
    row: Integration,
    config: IntegrationConfig,
    adapter: Adapter,
    delivery_id: str,
    body: bytes,
    error: PayloadError,
) -> Prepared:
    """Keep the unreadable delivery for the admin to inspect; the caller answers 422 after commit."""
    _reject(session, row, delivery_id, body, error)
    log.warning("webhook_rejected", provider=adapter.provider, integration=row.id, code=error.code)
    return Prepared(config, adapter, delivery_id, None, rejection=InvalidInput(error.message, code=error.code))


def complete(prepared: Prepared, http: httpx.Client) -> Parsed:
    """Let the adapter fetch what a thin event leaves out (network; off the assessment thread)."""
    assert prepared.parsed is not None
    if prepared.parsed.ticket is None:
        return prepared.parsed
    try:
        api = prepared.adapter.connect(prepared.integration, http)
        return prepared.adapter.complete(prepared.parsed, api)
    except WriteBackError as exc:
        log.warning("helpdesk_lookup_failed", provider=prepared.adapter.provider, reason=exc.reason)
        raise HelpdeskUnavailable(
            f"could not read the ticket's requester from {prepared.adapter.title}: {exc.reason}"
        ) from None


def record(session: Session, assessor: Assessor, prepared: Prepared, parsed: Parsed, now: datetime) -> HookResult:
    """One transaction: the delivery, and (when there is something new) the assessment and its write-back."""
    config = prepared.integration
    provider = prepared.adapter.provider
    key = ticket_key(provider, parsed.ref) if parsed.ref else ""
    delivery_pk = _insert_delivery(
        session,
        {
            "tenant_id": config.tenant_id,
            "integration_id": config.id,
            "delivery_id": prepared.delivery_id,
            "status": "ignored",
            "ticket_id": key[:200],
            "detail": parsed.ignored[:500],
            "error_code": "",
        },
    )
    if delivery_pk is None:
        earlier = _earlier(session, config.id, prepared.delivery_id)
        assert earlier is not None
        return earlier
    if parsed.ticket is None:
        return HookResult(status="ignored", delivery_id=prepared.delivery_id, ticket_id=key, detail=parsed.ignored)
    ticket = parsed.ticket.model_copy(update={"ticket_id": key, "tenant": config.tenant_id})
    stored = tickets.get_ticket(session, config.tenant_id, key)
    if stored is not None and content_fingerprint(Ticket.model_validate(stored.payload)) == content_fingerprint(ticket):
        latest = tickets.latest_assessment_for_ticket(session, config.tenant_id, key)
        _finish_delivery(session, delivery_pk, "unchanged", latest.id if latest else None)
        return HookResult(
            status="unchanged",
            delivery_id=prepared.delivery_id,
            ticket_id=key,
            assessment_id=latest.id if latest else None,
            level=latest.level if latest else None,
            score=latest.score if latest else None,
            detail="no new requester text since the last assessment",
        )
    assessment = score_tickets(session, assessor, config.tenant_id, [ticket], now, f"integration:{config.id}")[0]
    _finish_delivery(session, delivery_pk, "assessed", assessment.assessment_id)
    outbox.enqueue(session, config, parsed.ref, build_note(assessment), now)
    return _assessed(prepared.delivery_id, key, assessment)


def _finish_delivery(session: Session, delivery_pk: int, status: str, assessment_id: str | None) -> None:
    session.execute(
        update(Delivery).where(Delivery.id == delivery_pk).values(status=status, assessment_id=assessment_id)
    )


def _assessed(delivery_id: str, key: str, assessment: Assessment) -> HookResult:
    return HookResult(
        status="assessed",
        delivery_id=delivery_id,
        ticket_id=key,
        assessment_id=assessment.assessment_id,
        level=assessment.level,
        score=assessment.score,
        headline=assessment.banner.headline,
    )
