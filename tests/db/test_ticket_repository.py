"""Repositories for tickets and assessments, on real databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.core.assessment import Assessment, Banner, Versions
from app.core.scoring import load_scoring
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Ticket
from app.tickets import repository as tickets

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _assessment(ticket_id: str, score: int, assessment_id: str | None = None) -> Assessment:
    level = load_scoring().level_for(score)
    return Assessment(
        ticket_id=ticket_id,
        assessment_id=assessment_id or str(uuid.uuid4()),
        score=score,
        level=level,  # type: ignore[arg-type]
        actions=[],
        signals=[],
        required_steps=[],
        forbidden=[],
        banner=Banner(level=level, headline=f"score {score}"),  # type: ignore[arg-type]
        versions=Versions(rule_packs="sha256:packs", playbook="consumer@1", model="m@1", engine="0.1"),
    )


def _ticket(session: Session, tenant: str, ticket_id: str, account: Any = None, **kw: Any) -> Ticket:
    return tickets.upsert_ticket(
        session,
        tenant,
        ticket_id,
        payload={"ticket_id": ticket_id, "subject": kw.pop("subject", "")},
        requester_key=kw.pop("requester_key", ""),
        account=account,
        channel=kw.pop("channel", "email"),
        actions=kw.pop("actions", ()),
    )


# --- tickets and assessments ---------------------------------------------------------------------


def test_requester_key_is_stable_normalized_and_not_the_contact() -> None:
    key = tickets.requester_key_for(email=" Alice@Example.com ")
    assert key == tickets.requester_key_for(email="alice@example.com")
    assert len(key) == 64 and int(key, 16) >= 0
    assert "alice" not in key
    assert key != tickets.requester_key_for(external_id="alice@example.com")
    assert tickets.requester_key_for(external_id="U-1") != tickets.requester_key_for(external_id="U-2")
    assert tickets.requester_key_for() == ""


def test_upsert_ticket_updates_in_place(session: Session, two_tenants: tuple[str, str]) -> None:
    acme, globex = two_tenants
    account = accounts.upsert_account(session, acme, "A-1")
    first = _ticket(session, acme, "T-1", subject="hello", actions=["password_reset"])
    created_at, pk = first.created_at, first.id

    again = _ticket(
        session,
        acme,
        "T-1",
        account,
        subject="hello again",
        channel="chat",
        actions=["password_reset", "mfa_reset", "password_reset"],
    )
    _ticket(session, globex, "T-1", subject="globex's own T-1")

    assert (again.id, again.created_at) == (pk, created_at)
    assert again.payload["subject"] == "hello again"
    assert (again.channel, again.account_pk, again.last_actions) == (
        "chat",
        account.id,
        ["password_reset", "mfa_reset"],
    )
    assert tickets.get_ticket(session, globex, "T-1").payload["subject"] == "globex's own T-1"  # type: ignore[union-attr]
    assert tickets.get_ticket(session, "nobody", "T-1") is None
    count = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.ticket_id == "T-1"))
    assert count == 2


def test_relationships_never_load_implicitly(session: Session, two_tenants: tuple[str, str]) -> None:
    account = accounts.upsert_account(session, two_tenants[0], "A-1")
    ticket = _ticket(session, two_tenants[0], "T-1", account)
    session.expire_all()
    reloaded = tickets.get_ticket(session, two_tenants[0], "T-1")
    assert reloaded is not None and reloaded.id == ticket.id
    with pytest.raises(InvalidRequestError):
        _ = reloaded.account


# (ticket id, hours before NOW it was created, requester) for tickets about account A-1.
HISTORY = [("T-now", 0, "r1"), ("T-1h", 1, "r2"), ("T-23h", 23, "r1"), ("T-25h", 25, "r3")]


@pytest.mark.parametrize(
    ("window_hours", "exclude"), [(24, "T-now"), (24, None), (2, "T-now"), (48, "T-1h"), (0, None)]
)
def test_recent_tickets_window(
    session: Session, two_tenants: tuple[str, str], window_hours: int, exclude: str | None
) -> None:
    acme, globex = two_tenants
    account = accounts.upsert_account(session, acme, "A-1")
    other_account = accounts.upsert_account(session, acme, "A-2")
    globex_account = accounts.upsert_account(session, globex, "A-1")
    for ticket_id, hours, requester in HISTORY:
        row = _ticket(session, acme, ticket_id, account, requester_key=requester, actions=["email_change"])
        row.created_at = NOW - timedelta(hours=hours)
    _ticket(session, acme, "T-other-account", other_account).created_at = NOW
    _ticket(session, globex, "T-globex", globex_account).created_at = NOW
    session.flush()
    since = NOW - timedelta(hours=window_hours)

    recent = tickets.recent_tickets_for_account(session, acme, account, since, exclude_ticket_id=exclude)

    expected = [t for t, hours, _ in HISTORY if hours <= window_hours and t != exclude]
    assert [r.ticket_id for r in recent] == expected  # newest first, like HISTORY
    assert {r.requester_key for r in recent} == {k for t, _, k in HISTORY if t in expected}
    assert all(r.actions == ("email_change",) and r.created_at >= since for r in recent)


def test_latest_assessment_and_tenant_scoped_get(session: Session, two_tenants: tuple[str, str]) -> None:
    acme, globex = two_tenants
    ticket = _ticket(session, acme, "T-1")
    created = [NOW - timedelta(minutes=m) for m in (30, 0, 90)]  # stored out of order on purpose
    stored = [
        tickets.add_assessment(session, acme, ticket, _assessment("T-1", score), created_at=at)
        for score, at in zip((10, 60, 90), created, strict=True)
    ]
    newest = max(stored, key=lambda row: row.created_at)

    latest = tickets.latest_assessment_for_ticket(session, acme, "T-1")

    assert latest is not None and latest.id == newest.id
    assert tickets.assessment_from_row(latest).score == newest.score
    assert (latest.level, latest.rule_pack_hash, latest.playbook) == (
        load_scoring().level_for(newest.score),
        "sha256:packs",
        "consumer@1",
    )
    assert tickets.latest_assessment_for_ticket(session, globex, "T-1") is None
    assert tickets.latest_assessment_for_ticket(session, acme, "T-none") is None
    assert tickets.get_assessment(session, acme, stored[0].id) is stored[0]
    assert tickets.get_assessment(session, globex, stored[0].id) is None


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda ticket, first: _assessment("T-other", 10), InvalidInput),
        (lambda ticket, first: _assessment(ticket.ticket_id, 10, assessment_id=first.id), Conflict),
    ],
)
def test_add_assessment_refuses(
    session: Session, two_tenants: tuple[str, str], make: Callable[..., Assessment], error: type[Exception]
) -> None:
    ticket = _ticket(session, two_tenants[0], "T-1")
    first = tickets.add_assessment(session, two_tenants[0], ticket, _assessment("T-1", 5))
    with pytest.raises(error):
        tickets.add_assessment(session, two_tenants[0], ticket, make(ticket, first))


def test_add_assessment_for_another_tenants_ticket_is_not_found(session: Session, two_tenants: tuple[str, str]) -> None:
    ticket = _ticket(session, two_tenants[0], "T-1")
    with pytest.raises(NotFound):
        tickets.add_assessment(session, two_tenants[1], ticket, _assessment("T-1", 5))
