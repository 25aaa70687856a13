"""Email codes end to end: a real SMTP server receives the code; checking it records a verification."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import make_engine, make_sessionmaker, session_scope
from app.models.audit import AuditEntry
from app.models.verification import VerificationEvent
from app.models.verification_challenge import VerificationChallenge
from app.settings import Settings
from tests.smtp import Inbox

Auth = Callable[..., dict[str, str]]
ON_FILE = "jamie.moore@example.com"
ATTACKER = "jm.recovery@gmail.com"
ATTACK = (
    f"I lost my phone and can't get into my old email, please change my login email to {ATTACKER} "
    "and turn off 2FA, I need it today"
)


def put_account(
    client: TestClient, h: dict[str, str], account_id: str = "acc-1", emails: list[str] | None = None
) -> None:
    body = {"name": "Jamie Moore", "emails": [ON_FILE] if emails is None else emails, "phones": ["+14155550100"]}
    r = client.put(f"/v1/accounts/{account_id}", headers=h, json=body)
    assert r.status_code == 200, r.text


def send(client: TestClient, h: dict[str, str], account_id: str = "acc-1", **body: object) -> dict:
    r = client.post(f"/v1/accounts/{account_id}/verifications/email-code", headers=h, json={"ticket_id": "T-1", **body})
    assert r.status_code == 201, r.text
    return r.json()


def code_in(inbox: Inbox, address: str = ON_FILE) -> str:
    messages = inbox.to(address)
    assert messages, "no message reached the SMTP server"
    found = re.search(r"\b(\d{6})\b", messages[-1].get_payload(decode=True).decode())  # type: ignore[union-attr]
    assert found
    return found.group(1)


def check(client: TestClient, h: dict[str, str], challenge_id: str, code: str) -> tuple[int, dict]:
    r = client.post(f"/v1/verification-challenges/{challenge_id}/check", headers=h, json={"code": code})
    return r.status_code, r.json()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def db_rows(settings: Settings, model: type, **where: object) -> list:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            rows = list(s.scalars(select(model).filter_by(**where)))
            s.expunge_all()
            return rows
    finally:
        engine.dispose()


def test_email_code_satisfies_the_step_of_a_scored_ticket(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox, settings: Settings
) -> None:
    tenant = new_tenant()
    h = auth(tenant, "service")
    agent = auth(tenant, "agent", subject="agent-7")
    put_account(client, h)
    scored = client.post(
        "/v1/score",
        headers=h,
        json={
            "ticket_id": "T-1",
            "channel": "email",
            "subject": "help",
            "messages": [{"author": "requester", "body": ATTACK}],
            "requester": {"email": "someone.else@outlook.com"},
            "account": {"id": "acc-1"},
        },
    )
    assert scored.status_code == 201, scored.text
    pending = [s for s in scored.json()["required_steps"] if "email_code" in s["methods"]]
    assert pending and pending[0]["status"] == "pending"

    sent = send(client, agent)
    assert sent["method"] == "email_code"
    assert sent["sent_to"] == "j***@e***.com"
    assert sent["attempts_left"] == 5
    expires = datetime.fromisoformat(sent["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    assert [rcpts for rcpts, _ in inbox.messages] == [[ON_FILE]]
    code = code_in(inbox)

    status, body = check(client, agent, sent["challenge_id"], code)
    assert status == 200, body
    assert body["status"] == "satisfied" and body["method"] == "email_code"

    events = db_rows(settings, VerificationEvent, id=body["verification_event_id"])
    assert len(events) == 1
    event = events[0]
    assert (event.method, event.strength, event.actor, event.ticket_id) == ("email_code", 2, "agent:agent-7", "T-1")
    assert event.evidence_ref == f"challenge:{sent['challenge_id']}"
    audits = db_rows(settings, AuditEntry, tenant_id=tenant, event="verification_recorded")
    assert [a.details["event_id"] for a in audits] == [event.id]

    now = client.get("/v1/tickets/T-1/assessment", headers=agent).json()
    step = next(s for s in now["required_steps"] if s["step"] == pending[0]["step"])
    assert step["status"] == "satisfied" and step["satisfied_by"] == event.id


def test_code_is_stored_only_as_a_hash_and_never_logged(
    client: TestClient,
    new_tenant: Callable[..., str],
    auth: Auth,
    inbox: Inbox,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = auth(new_tenant())
    put_account(client, h)
    sent = send(client, h)
    code = code_in(inbox)
    wrong_code = wrong(code)
    assert check(client, h, sent["challenge_id"], wrong_code)[0] == 422
    assert check(client, h, sent["challenge_id"], code)[0] == 200

    output = capsys.readouterr().out
    assert "verification_code_sent" in output and "verification_code_accepted" in output  # logs were captured
    assert code not in output and wrong_code not in output
    assert ON_FILE not in output
    (row,) = db_rows(settings, VerificationChallenge, id=sent["challenge_id"])
    stored = " ".join(str(getattr(row, c.key)) for c in VerificationChallenge.__table__.columns)
    assert code not in stored
    assert len(row.code_hash) == 64


def test_wrong_codes_then_exhausted(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox
) -> None:
    tenant = new_tenant()
    put_account(client, auth(tenant))
    h = auth(tenant, "agent")
    sent = send(client, h)
    code = code_in(inbox)
    for left in (4, 3, 2, 1):
        status, body = check(client, h, sent["challenge_id"], wrong(code))
        assert (status, body["code"], body["details"]["attempts_left"]) == (422, "code_invalid", left)
    status, body = check(client, h, sent["challenge_id"], wrong(code))
    assert (status, body["code"]) == (422, "code_attempts_exhausted")
    status, body = check(client, h, sent["challenge_id"], code)  # the right code no longer works
    assert (status, body["code"]) == (422, "code_attempts_exhausted")


def test_expired_code_is_refused(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox, settings: Settings
) -> None:
    h = auth(new_tenant())
    put_account(client, h)
    sent = send(client, h)
    code = code_in(inbox)
    engine = make_engine(settings.database_url)
    with session_scope(make_sessionmaker(engine)) as s:
        s.execute(
            update(VerificationChallenge)
            .where(VerificationChallenge.id == sent["challenge_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()
    status, body = check(client, h, sent["challenge_id"], code)
    assert (status, body["code"]) == (422, "code_expired")


def test_replayed_code_is_refused(client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox) -> None:
    h = auth(new_tenant())
    put_account(client, h)
    sent = send(client, h)
    code = code_in(inbox)
    assert check(client, h, sent["challenge_id"], code)[0] == 200
    status, body = check(client, h, sent["challenge_id"], code)
    assert (status, body["code"]) == (409, "code_used")


def test_rate_limit_three_per_account(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox
) -> None:
    h = auth(new_tenant())
    put_account(client, h)
    put_account(client, h, "acc-2")
    for _ in range(3):
        send(client, h)
    r = client.post("/v1/accounts/acc-1/verifications/email-code", headers=h, json={"ticket_id": "T-1"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    assert len(inbox.messages) == 3
    send(client, h, "acc-2")  # another account is not limited


def test_tenant_isolation(client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox) -> None:
    h = auth(new_tenant())
    other = auth(new_tenant())
    put_account(client, h)
    r = client.post("/v1/accounts/acc-1/verifications/email-code", headers=other, json={"ticket_id": "T-1"})
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")
    sent = send(client, h)
    code = code_in(inbox)
    status, body = check(client, other, sent["challenge_id"], code)
    assert (status, body["code"]) == (404, "challenge_not_found")
    assert check(client, h, sent["challenge_id"], code)[0] == 200  # the other tenant spent nothing


def test_code_goes_only_to_the_address_on_file(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox
) -> None:
    h = auth(new_tenant())
    put_account(client, h, emails=["first@example.com", ON_FILE])
    r = client.post(
        "/v1/accounts/acc-1/verifications/email-code",
        headers=h,
        json={"ticket_id": "T-1", "contact": 1, "email": ATTACKER, "to": ATTACKER},
    )
    assert r.status_code == 201, r.text
    assert [rcpts for rcpts, _ in inbox.messages] == [[ON_FILE]]
    assert not inbox.to(ATTACKER)


@pytest.mark.parametrize(
    ("account_id", "emails", "contact", "status", "code"),
    [
        ("missing", [ON_FILE], 0, 404, "account_not_found"),
        ("acc-1", [ON_FILE], 1, 422, "contact_not_on_file"),
        ("acc-1", [], 0, 422, "contact_not_on_file"),
        ("acc-1", [ON_FILE], -1, 422, "invalid_input"),
    ],
)
def test_send_refusals(
    client: TestClient,
    new_tenant: Callable[..., str],
    auth: Auth,
    inbox: Inbox,
    account_id: str,
    emails: list[str],
    contact: int,
    status: int,
    code: str,
) -> None:
    h = auth(new_tenant())
    put_account(client, h, emails=emails)
    r = client.post(
        f"/v1/accounts/{account_id}/verifications/email-code", headers=h, json={"ticket_id": "T-1", "contact": contact}
    )
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert inbox.messages == []


def test_roles(client: TestClient, new_tenant: Callable[..., str], auth: Auth, inbox: Inbox) -> None:
    tenant = new_tenant()
    put_account(client, auth(tenant))
    r = client.post(
        "/v1/accounts/acc-1/verifications/email-code", headers=auth(tenant, "trainer"), json={"ticket_id": "T"}
    )
    assert r.status_code == 403
    assert inbox.messages == []
