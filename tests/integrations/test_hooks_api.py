"""POST /v1/hooks/{provider}/{integration_id} end to end (generic adapter): verify, dedupe, store,
enqueue; refusals store nothing; unreadable deliveries are kept for the admin; echoes are not re-assessed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.service import Installed
from app.models import Assessment, Delivery, OutboxItem, Ticket
from app.settings import Settings
from integrations.generic import sign

ATTACK = "I lost my phone. Please disable two-factor and change my email to new.me@gmail.com right now."


def ticket(ticket_id: str, body: str = ATTACK, **extra: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "subject": "Locked out",
        "messages": [{"author": "requester", "body": body}],
        "requester": {"email": "ana@example.com", "name": "Ana"},
        **extra,
    }


def deliver(
    client: TestClient,
    installed: Installed,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    secret: str | None = None,
    timestamp: int | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Deskguard-Timestamp": str(ts),
        "X-Deskguard-Signature": sign(installed.secret if secret is None else secret, body, ts),
        "X-Deskguard-Delivery": delivery or uuid.uuid4().hex,
    }
    return client.post(f"/v1/hooks/generic/{installed.id}", content=body, headers=headers)


def count(settings: Settings, model: Any, **where: Any) -> int:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            stmt = select(func.count()).select_from(model)
            for key, value in where.items():
                stmt = stmt.where(getattr(model, key) == value)
            return int(s.scalar(stmt) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def generic(install: Callable[..., Installed]) -> Installed:
    return install("generic", "https://callback.example/deskguard")


def test_delivery_is_assessed_stored_and_queued_once(
    client: TestClient, settings: Settings, generic: Installed
) -> None:
    response = deliver(client, generic, ticket("T-1"), delivery="dlv-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "assessed"
    assert body["ticket_id"] == "generic:T-1"
    assert body["level"] in ("high", "critical")

    again = deliver(client, generic, ticket("T-1"), delivery="dlv-1")
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["assessment_id"] == body["assessment_id"]

    assert count(settings, Delivery, integration_id=generic.id) == 1
    assert count(settings, OutboxItem, integration_id=generic.id) == 1
    assert count(settings, Assessment, tenant_id=generic.tenant) == 1


def test_echo_with_unchanged_requester_text_is_not_reassessed(
    client: TestClient, settings: Settings, generic: Installed
) -> None:
    first = deliver(client, generic, ticket("T-2")).json()
    # Deskguard's own write-back changes tags and adds an agent note: the helpdesk fires again
    echo = ticket("T-2", tags=["deskguard", "deskguard-critical"])
    echo["messages"].append({"author": "agent", "body": "Deskguard: Critical risk"})
    second = deliver(client, generic, echo).json()
    assert second["status"] == "unchanged"
    assert second["assessment_id"] == first["assessment_id"]
    assert count(settings, OutboxItem, integration_id=generic.id) == 1

    follow_up = ticket("T-2")
    follow_up["messages"].append({"author": "requester", "body": "Hello?? I need this done in 10 minutes."})
    third = deliver(client, generic, follow_up).json()
    assert third["status"] == "assessed"
    assert third["assessment_id"] != first["assessment_id"]
    assert count(settings, OutboxItem, integration_id=generic.id) == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"secret": "not-the-secret"}, "signature_invalid"),
        ({"timestamp": int(time.time()) - 3600}, "timestamp_stale"),
    ],
)
def test_bad_signature_or_stale_timestamp_is_401_and_stores_nothing(
    client: TestClient, settings: Settings, generic: Installed, kwargs: dict[str, Any], code: str
) -> None:
    response = deliver(client, generic, ticket("T-3"), **kwargs)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert count(settings, Delivery, integration_id=generic.id) == 0
    assert count(settings, Ticket, tenant_id=generic.tenant) == 0


def test_tampered_body_and_missing_header_are_refused(client: TestClient, generic: Installed) -> None:
    body = json.dumps(ticket("T-4")).encode()
    ts = int(time.time())
    headers = {"X-Deskguard-Timestamp": str(ts), "X-Deskguard-Signature": sign(generic.secret, body, ts)}
    tampered = client.post(f"/v1/hooks/generic/{generic.id}", content=body.replace(b"Ana", b"Bob"), headers=headers)
    assert tampered.status_code == 401
    assert tampered.json()["code"] == "signature_invalid"
    missing = client.post(f"/v1/hooks/generic/{generic.id}", content=body, headers={"X-Deskguard-Timestamp": str(ts)})
    assert missing.status_code == 401
    assert missing.json()["code"] == "signature_missing"


def test_unknown_integration_or_provider_is_404(client: TestClient, generic: Installed) -> None:
    assert deliver(client, generic, ticket("T-5")).status_code == 200
    unknown = client.post("/v1/hooks/generic/doesnotexist", content=b"{}")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "integration_not_found"
    other_provider = client.post(f"/v1/hooks/zendesk/{generic.id}", content=b"{}")
    assert other_provider.status_code == 404
    assert other_provider.json()["code"] == "integration_not_found"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"this is not json", "payload_not_json"),
        (b"[1, 2]", "payload_not_json"),
        (json.dumps({"ticket_id": "T-6", "messages": [{"author": "martian"}]}).encode(), "payload_invalid"),
    ],
)
def test_malformed_payload_is_422_and_kept_for_the_admin(
    client: TestClient, generic: Installed, auth: Callable[..., dict[str, str]], payload: bytes, code: str
) -> None:
    response = deliver(client, generic, payload)
    assert response.status_code == 422
    assert response.json()["code"] == code

    listed = client.get(
        f"/v1/integrations/{generic.id}/deliveries",
        params={"status": "rejected"},
        headers=auth(generic.tenant, "admin"),
    )
    assert listed.status_code == 200
    [rejected] = listed.json()
    assert rejected["error_code"] == code
    assert rejected["payload"] == payload.decode()


def test_ip_allowlist_refuses_other_callers(client: TestClient, install: Callable[..., Installed]) -> None:
    installed = install("generic", "https://callback.example", options={"ip_allowlist": ["10.0.0.0/8"]})
    response = deliver(client, installed, ticket("T-7"))
    assert response.status_code == 403
    assert response.json()["code"] == "ip_not_allowed"


def test_disabled_integration_is_refused(
    client: TestClient, generic: Installed, auth: Callable[..., dict[str, str]]
) -> None:
    patched = client.patch(
        f"/v1/integrations/{generic.id}", json={"enabled": False}, headers=auth(generic.tenant, "admin")
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    response = deliver(client, generic, ticket("T-8"))
    assert response.status_code == 404
    assert response.json()["code"] == "integration_disabled"


def test_admins_see_only_their_own_tenants_integrations(
    client: TestClient, install: Callable[..., Installed], auth: Callable[..., dict[str, str]]
) -> None:
    mine = install("generic", "https://a.example")
    theirs = install("generic", "https://b.example")
    headers = auth(mine.tenant, "admin")
    listed = client.get("/v1/integrations", headers=headers).json()
    assert [i["id"] for i in listed] == [mine.id]
    assert "secret" not in listed[0]
    for path in ("", "/deliveries", "/outbox"):
        response = client.get(f"/v1/integrations/{theirs.id}{path}", headers=headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "integration_not_found"
    assert client.post(f"/v1/integrations/{theirs.id}/test", headers=headers).status_code == 404
    agent = client.get("/v1/integrations", headers=auth(mine.tenant, "agent"))
    assert agent.status_code == 403


def test_install_over_the_api_shows_the_secret_once(
    client: TestClient, new_tenant: Callable[..., str], auth: Callable[..., dict[str, str]]
) -> None:
    tenant = new_tenant()
    headers = auth(tenant, "admin")
    created = client.post(
        "/v1/integrations", json={"provider": "generic", "api_base_url": "https://cb.example"}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["secret"]) >= 32
    assert body["webhook_url"].endswith(f"/v1/hooks/generic/{body['id']}")
    shown = client.get(f"/v1/integrations/{body['id']}", headers=headers).json()
    assert "secret" not in shown and shown["secret_set"] is True

    report = client.post(f"/v1/integrations/{body['id']}/test", headers=headers)
    assert report.status_code == 200
    assert [h["hop"] for h in report.json()["hops"]] == [
        "integration",
        "webhook",
        "helpdesk_api",
        "assessment",
        "write_back",
    ]
    assert report.json()["ok"] is True


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"provider": "pigeonpost", "api_base_url": "https://x.example"}, "provider_unknown"),
        ({"provider": "generic"}, "api_base_url_missing"),
        ({"provider": "generic", "api_base_url": "ftp://x.example"}, "api_base_url_invalid"),
        ({"provider": "generic", "api_base_url": "https://u:p@x.example"}, "api_base_url_invalid"),
        (
            {"provider": "generic", "api_base_url": "https://x.example", "credentials": {"token": "t"}},
            "credentials_unknown",
        ),
        ({"provider": "generic", "api_base_url": "https://x.example", "options": {"colour": "red"}}, "option_unknown"),
        (
            {"provider": "generic", "api_base_url": "https://x.example", "options": {"ip_allowlist": ["nope"]}},
            "option_invalid",
        ),
    ],
)
def test_install_errors_are_clear(
    client: TestClient,
    new_tenant: Callable[..., str],
    auth: Callable[..., dict[str, str]],
    body: dict[str, Any],
    code: str,
) -> None:
    response = client.post("/v1/integrations", json=body, headers=auth(new_tenant(), "admin"))
    assert response.status_code in (404, 422), response.text
    assert response.json()["code"] == code


def test_an_adapter_bug_is_a_422_not_a_500(
    client: TestClient, generic: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.generic import GenericAdapter

    def broken(self: object, payload: object, integration: object) -> None:
        raise KeyError("requester")

    monkeypatch.setattr(GenericAdapter, "parse", broken)
    response = deliver(client, generic, ticket("T-10"))
    assert response.status_code == 422
    assert response.json()["code"] == "payload_invalid"


def test_head_probe_answers_for_an_installed_integration_only(client: TestClient, generic: Installed) -> None:
    assert client.head(f"/v1/hooks/generic/{generic.id}").status_code == 200
    assert client.head("/v1/hooks/generic/doesnotexist").status_code == 404
    assert client.head(f"/v1/hooks/zendesk/{generic.id}").status_code == 404


@pytest.mark.parametrize("ticket_id", ["..", "../admin", "a/b", "T 1"])
def test_ticket_ids_that_would_change_an_api_path_are_refused(
    client: TestClient, generic: Installed, ticket_id: str
) -> None:
    response = deliver(client, generic, ticket(ticket_id))
    assert response.status_code == 422
    assert response.json()["code"] == "payload_invalid"
