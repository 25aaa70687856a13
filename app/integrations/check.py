"""`deskguard integrations test`: push a sample ticket through the whole path and report each hop.

Hops: the integration is installed and has its secret -> a delivery signed as the helpdesk signs it
is verified and parsed -> the helpdesk API accepts the credentials -> the ticket is assessed and
stored -> the note is written back. Without a real ticket to write to (`ticket_ref`), the last hop
is skipped and its queued write-back retired, so nothing is sent to a ticket that does not exist.
"""

from __future__ import annotations

import time

import httpx
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.engine import Assessor
from app.core.ticket import Message, Requester, Ticket
from app.db import session_scope
from app.errors import DeskguardError
from app.hooks import service as hooks
from app.integrations.crypto import Vault
from app.integrations.service import config_of, get_row, require_adapter
from app.integrations.worker import Worker
from app.models.integration import OutboxItem
from app.runtime import utc_now
from app.settings import Settings
from integrations.http import WriteBackError

SAMPLE_TEXT = (
    "Hi, I lost my phone and can't get the two-factor codes anymore. I'm travelling and locked out. "
    "Please turn off 2FA and change the email on my account to my new address today, it's urgent."
)


class Hop(BaseModel):
    hop: str
    ok: bool
    detail: str


class CheckReport(BaseModel):
    integration: str
    provider: str
    ok: bool
    ticket_id: str = ""
    assessment_id: str = ""
    hops: list[Hop]


def sample_ticket(ref: str) -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Locked out - please help",
        messages=[Message(author="requester", body=SAMPLE_TEXT)],
        requester=Requester(name="Deskguard Test", email="deskguard-test@example.com", external_id="deskguard-test"),
    )


def run_check(
    settings: Settings,
    sessions: sessionmaker[Session],
    assessor: Assessor,
    vault: Vault,
    http: httpx.Client,
    integration_id: str,
    *,
    tenant_id: str | None = None,
    ticket_ref: str = "",
) -> CheckReport:
    hops: list[Hop] = []

    def report(**extra: str) -> CheckReport:
        return CheckReport(
            integration=integration_id,
            provider=provider,
            ok=all(h.ok for h in hops),
            hops=hops,
            **extra,
        )

    provider = ""
    with session_scope(sessions) as session:
        row = get_row(session, integration_id, tenant_id)
        provider = row.provider
        config = config_of(vault, row)
        enabled = row.enabled
    adapter = require_adapter(provider)
    if not enabled or not config.secret:
        why = "disabled" if not enabled else "has no signing secret yet (set it with `integrations secret`)"
        hops.append(Hop(hop="integration", ok=False, detail=f"integration {why}"))
        return report()
    hops.append(Hop(hop="integration", ok=True, detail=f"{adapter.title}, tenant {config.tenant_id}"))

    now = time.time()
    ref = ticket_ref or f"deskguard-test-{int(now)}"
    delivery = adapter.sample(config, sample_ticket(ref), now)
    try:
        with session_scope(sessions) as session:
            prepared = hooks.prepare(session, vault, provider, integration_id, delivery, now)
    except DeskguardError as exc:
        hops.append(Hop(hop="webhook", ok=False, detail=f"{exc.code}: {exc.message}"))
        return report()
    if prepared.rejection is not None or prepared.parsed is None:
        detail = prepared.rejection.message if prepared.rejection else "delivery already seen"
        hops.append(Hop(hop="webhook", ok=False, detail=detail))
        return report()
    hops.append(Hop(hop="webhook", ok=True, detail="signature verified, payload parsed"))

    try:
        who = adapter.check(adapter.connect(config, http))
        hops.append(Hop(hop="helpdesk_api", ok=True, detail=who))
    except WriteBackError as exc:
        hops.append(Hop(hop="helpdesk_api", ok=False, detail=exc.reason))
        return report()

    parsed = prepared.parsed
    if ticket_ref:
        try:
            parsed = hooks.complete(prepared, http)
        except DeskguardError as exc:
            hops.append(Hop(hop="ticket_lookup", ok=False, detail=exc.message))
            return report()
    with session_scope(sessions) as session:
        result = hooks.record(session, assessor, prepared, parsed, utc_now())
    if result.status != "assessed" or not result.assessment_id:
        hops.append(Hop(hop="assessment", ok=False, detail=f"{result.status}: {result.detail}"))
        return report(ticket_id=result.ticket_id)
    hops.append(Hop(hop="assessment", ok=True, detail=f"{result.level} ({result.score}/100), stored"))

    with session_scope(sessions) as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.assessment_id == result.assessment_id)).one()
        if not ticket_ref:
            item.status, item.done_at, item.last_error = "done", utc_now(), "integration test: not sent (no --ticket)"
    if not ticket_ref:
        hops.append(Hop(hop="write_back", ok=True, detail="skipped: pass --ticket REF to write to a real ticket"))
        return report(ticket_id=result.ticket_id, assessment_id=result.assessment_id)
    worker = Worker(settings, sessions, vault, http=http, name=f"check:{integration_id[:8]}")
    claimed = worker.claim(assessment_id=result.assessment_id)
    outcome = worker.send(claimed[0]) if claimed else None
    if outcome is None:
        hops.append(Hop(hop="write_back", ok=False, detail="a worker took the write-back first; see the outbox"))
    else:
        hops.append(Hop(hop="write_back", ok=outcome.status == "done", detail=outcome.reason or outcome.status))
    return report(ticket_id=result.ticket_id, assessment_id=result.assessment_id)
