"""Notify and undo: a change mails a single-use "Was this you?" link (real SMTP) that raises an alert."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.core.engine import Assessor
from app.db import make_engine, make_sessionmaker, session_scope
from app.main import create_app
from app.models.alert import UndoLink
from app.runtime import Runtime
from app.settings import Settings
from tests.smtp import Inbox
from tests.verification_attest.conftest import PUBLIC_URL

Auth = Callable[..., dict[str, str]]
AuditLog = Callable[[str], list[tuple[str, str, dict[str, Any]]]]
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/v1/undo/[A-Za-z0-9_.-]+)")


def _change(client: TestClient, tenant: str, auth: Auth, **extra: Any) -> Any:
    body = {"kind": "email_change", "ticket_id": "T-42", **extra}
    return client.post("/v1/accounts/A-1/changes", json=body, headers=auth(tenant, "agent"))


def _link_from_mail(inbox: Inbox, to: str) -> str:
    [message] = inbox.to(to)
    assert message["Subject"] == "Was this you?"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    match = LINK.search(payload.decode())
    assert match, payload
    return match.group(1)


def _alerts(client: TestClient, tenant: str, auth: Auth, role: str = "agent") -> Any:
    r = client.get("/v1/accounts/A-1/alerts", headers=auth(tenant, role))
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def test_the_mailed_link_raises_one_critical_alert_and_then_is_spent(
    client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox, audit_log: AuditLog
) -> None:
    tenant = account()
    r = _change(client, tenant, auth, previous_email=" Jane@Example.com ")
    assert r.status_code == 201, r.text
    assert r.json()["notified"] is True and r.json()["undo_link_expires_at"]
    path = _link_from_mail(inbox, "jane@example.com")

    page = client.get(path)  # what a link prefetcher does: it must change nothing
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert '<form method="post">' in page.text and "T-42" not in page.text
    assert _alerts(client, tenant, auth) == []

    used = client.post(path)
    assert used.status_code == 200, used.text
    [alert] = _alerts(client, tenant, auth, role="security")
    assert (alert["kind"], alert["severity"], alert["change_kind"], alert["ticket_id"]) == (
        "change_reported",
        "critical",
        "email_change",
        "T-42",
    )

    again = client.post(path)
    assert again.status_code == 410
    assert again.json()["code"] == "undo_link_used"
    assert client.get(path).status_code == 410
    assert len(_alerts(client, tenant, auth)) == 1
    trail = [(e, s, d) for e, s, d in audit_log(tenant)]
    assert ("change_reported", "A-1", {"alert_id": alert["id"], "kind": "email_change", "ticket_id": "T-42"}) in trail
    assert "account_change_recorded" in [e for e, _, _ in trail]


def test_a_tampered_link_is_invalid(client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox) -> None:
    tenant = account()
    assert _change(client, tenant, auth, previous_email="jane@example.com").status_code == 201
    path = _link_from_mail(inbox, "jane@example.com")
    link_id, _, mac = path.rpartition("/")[2].partition(".")
    forged = [
        f"/v1/undo/{link_id}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # signature changed
        f"/v1/undo/{link_id[:-1]}{'A' if link_id[-1] != 'A' else 'B'}.{mac}",  # id changed
        f"/v1/undo/{link_id}",  # no signature
    ]
    for bad in forged:
        r = client.post(bad)
        assert r.status_code == 404, bad
        assert r.json()["code"] == "undo_link_invalid"
        assert client.get(bad).status_code == 404
    assert _alerts(client, tenant, auth) == []
    assert client.post(path).status_code == 200  # the genuine link still works


def test_an_expired_link_is_refused(
    client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox, settings: Settings
) -> None:
    tenant = account()
    assert _change(client, tenant, auth, previous_email="jane@example.com").status_code == 201
    path = _link_from_mail(inbox, "jane@example.com")
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            s.execute(
                update(UndoLink)
                .where(UndoLink.tenant_id == tenant)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
    finally:
        engine.dispose()
    r = client.post(path)
    assert r.status_code == 410
    assert r.json()["code"] == "undo_link_expired"
    assert _alerts(client, tenant, auth) == []


def test_only_a_hash_of_the_token_is_stored(
    client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox, settings: Settings
) -> None:
    tenant = account()
    assert _change(client, tenant, auth, previous_email="jane@example.com").status_code == 201
    token = _link_from_mail(inbox, "jane@example.com").rpartition("/")[2]
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            [link] = s.scalars(select(UndoLink).where(UndoLink.tenant_id == tenant)).all()
            stored = [str(getattr(link, c.key)) for c in UndoLink.__table__.columns]
    finally:
        engine.dispose()
    assert token not in " ".join(stored)
    assert token.partition(".")[2] not in " ".join(stored)


def test_a_previous_email_not_on_file_is_refused_and_nothing_is_sent(
    client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox
) -> None:
    tenant = account()
    r = _change(client, tenant, auth, previous_email="attacker@evil.example")
    assert r.status_code == 422
    assert r.json()["code"] == "contact_not_on_file"
    assert inbox.messages == []
    changes = client.get("/v1/accounts/A-1", headers=auth(tenant, "agent")).json()["recent_changes"]
    assert changes == []


def test_a_change_without_a_previous_email_is_recorded_without_mail(
    client: TestClient, account: Callable[[], str], auth: Auth, inbox: Inbox
) -> None:
    tenant = account()
    r = client.post(
        "/v1/accounts/A-1/changes", json={"kind": "mfa_reset", "ticket_id": "T-1"}, headers=auth(tenant, "service")
    )
    assert r.status_code == 201, r.text
    assert r.json()["notified"] is False
    assert inbox.messages == []
    changes = client.get("/v1/accounts/A-1", headers=auth(tenant, "agent")).json()["recent_changes"]
    assert [c["kind"] for c in changes] == ["mfa_reset"]


def test_another_tenants_alerts_are_invisible(
    client: TestClient,
    account: Callable[[], str],
    new_tenant: Callable[..., str],
    auth: Auth,
    inbox: Inbox,
) -> None:
    tenant, other_with_same_id = account(), account()
    assert _change(client, tenant, auth, previous_email="jane@example.com").status_code == 201
    assert client.post(_link_from_mail(inbox, "jane@example.com")).status_code == 200
    assert len(_alerts(client, tenant, auth)) == 1
    assert _alerts(client, other_with_same_id, auth) == []
    r = client.get("/v1/accounts/A-1/alerts", headers=auth(new_tenant(), "agent"))
    assert r.status_code == 404
    assert client.get("/v1/accounts/A-1/alerts", headers=auth(tenant, "trainer")).status_code == 403


def test_when_the_mail_server_is_down_nothing_is_recorded(
    account: Callable[[], str], auth: Auth, settings: Settings, assessor: Assessor
) -> None:
    tenant = account()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    down = settings.model_copy(update={"smtp_port": closed_port})
    runtime = Runtime.start(down, assessor=assessor)
    try:
        with TestClient(create_app(down, runtime)) as c:
            r = _change(c, tenant, auth, previous_email="jane@example.com")
            assert r.status_code == 503
            assert r.json()["code"] == "mail_unavailable"
            assert c.get("/v1/accounts/A-1", headers=auth(tenant, "agent")).json()["recent_changes"] == []
    finally:
        runtime.close()
