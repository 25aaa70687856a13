"""Callback to a number on file, manager approval by a second person, identity document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker, session_scope
from app.models.verification import VerificationEvent
from app.settings import Settings

Auth = Callable[..., dict[str, str]]
AuditLog = Callable[[str], list[tuple[str, str, dict[str, Any]]]]


@pytest.fixture
def events(settings: Settings) -> Callable[[str], list[tuple[str, int, str, str, str | None]]]:
    """The tenant's verification events as (method, strength, actor, evidence_ref, ticket_id)."""

    def read(tenant: str) -> list[tuple[str, int, str, str, str | None]]:
        engine = make_engine(settings.database_url)
        try:
            with session_scope(make_sessionmaker(engine)) as s:
                rows = s.scalars(
                    select(VerificationEvent)
                    .where(VerificationEvent.tenant_id == tenant)
                    .order_by(VerificationEvent.created_at)
                ).all()
                return [(r.method, r.strength, r.actor, r.evidence_ref, r.ticket_id) for r in rows]
        finally:
            engine.dispose()

    return read


# --- callback ------------------------------------------------------------------------------------


def test_callback_numbers_show_only_country_code_and_last_four(
    client: TestClient, account: Callable[[], str], auth: Auth
) -> None:
    tenant = account()
    r = client.get("/v1/accounts/A-1/callback-numbers", headers=auth(tenant, "agent"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "numbers": [
            {"contact": 0, "masked": "+44 •••• ••01 23"},
            {"contact": 1, "masked": "+1 •••• ••01 88"},
        ]
    }
    assert "7700" not in r.text and "4155" not in r.text


@pytest.mark.parametrize(
    ("outcome", "recorded"),
    [("confirmed", True), ("failed", False)],
)
def test_callback_records_an_event_only_when_confirmed_and_audits_either_way(
    client: TestClient,
    account: Callable[[], str],
    auth: Auth,
    events: Any,
    audit_log: AuditLog,
    outcome: str,
    recorded: bool,
) -> None:
    tenant = account()
    body = {"ticket_id": "T-9", "contact": 1, "outcome": outcome, "note": "rang back, voice matched"}
    r = client.post("/v1/accounts/A-1/verifications/callback", json=body, headers=auth(tenant, "agent", "ag-7"))

    assert r.status_code == 201, r.text
    out = r.json()
    assert out["method"] == "callback"
    if recorded:
        assert out["strength"] == 2 and out["event_id"]
        assert events(tenant) == [("callback", 2, "agent:ag-7", "phone:1", "T-9")]
    else:
        assert out["event_id"] is None
        assert events(tenant) == []
    audited = [(e, d) for e, _, d in audit_log(tenant) if e.startswith("callback_")]
    assert audited == [(f"callback_{outcome}", {"contact": 1, "ticket_id": "T-9", "event_id": out["event_id"]})]
    assert "voice matched" not in str(audit_log(tenant))


def test_callback_to_an_index_not_on_file_is_refused(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any
) -> None:
    tenant = account()
    body = {"ticket_id": "T-9", "contact": 2, "outcome": "confirmed"}
    r = client.post("/v1/accounts/A-1/verifications/callback", json=body, headers=auth(tenant, "agent"))
    assert r.status_code == 422
    assert r.json()["code"] == "contact_not_on_file"
    assert events(tenant) == []


def test_callback_on_another_tenants_account_is_not_found(
    client: TestClient, account: Callable[[], str], new_tenant: Callable[..., str], auth: Auth
) -> None:
    account()
    other = new_tenant()
    body = {"ticket_id": "T-9", "contact": 0, "outcome": "confirmed"}
    r = client.post("/v1/accounts/A-1/verifications/callback", json=body, headers=auth(other, "agent"))
    assert r.status_code == 404
    assert r.json()["code"] == "account_not_found"
    assert client.get("/v1/accounts/A-1/callback-numbers", headers=auth(other, "agent")).status_code == 404


# --- identity document ---------------------------------------------------------------------------


def test_identity_document_records_a_strong_event_and_an_audit_entry(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any, audit_log: AuditLog
) -> None:
    tenant = account()
    body = {"ticket_id": "T-3", "evidence_ref": "IDV-2026-00042", "provider": "manual"}
    r = client.post("/v1/accounts/A-1/verifications/identity-document", json=body, headers=auth(tenant, "agent", "a1"))

    assert r.status_code == 201, r.text
    assert r.json()["strength"] == 3
    assert events(tenant) == [("identity_document", 3, "agent:a1", "manual:IDV-2026-00042", "T-3")]
    assert ("identity_document_verified", "A-1") in [(e, s) for e, s, _ in audit_log(tenant)]


@pytest.mark.parametrize(
    "body",
    [
        {"ticket_id": "T-3", "evidence_ref": "jane@example.com", "provider": "manual"},
        {"ticket_id": "T-3", "evidence_ref": "checked her passport", "provider": "manual"},
        {"ticket_id": "T-3", "evidence_ref": "", "provider": "manual"},
        {"ticket_id": "T-3", "evidence_ref": "x" * 201, "provider": "manual"},
        {"ticket_id": "T-3", "evidence_ref": "IDV-1", "provider": "onfido"},
    ],
)
def test_identity_document_refuses_anything_but_a_reference(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any, body: dict[str, str]
) -> None:
    tenant = account()
    r = client.post("/v1/accounts/A-1/verifications/identity-document", json=body, headers=auth(tenant, "agent"))
    assert r.status_code == 422
    assert events(tenant) == []


# --- manager approval ----------------------------------------------------------------------------


def _request(client: TestClient, tenant: str, auth: Auth, subject: str = "agent-1") -> dict[str, Any]:
    body = {"ticket_id": "T-5", "action": "payout_change", "reason": "new bank account, caller verified"}
    r = client.post("/v1/accounts/A-1/approvals", json=body, headers=auth(tenant, "agent", subject))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_a_second_person_approves_and_a_manager_approval_event_is_recorded(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any, audit_log: AuditLog
) -> None:
    tenant = account()
    approval = _request(client, tenant, auth)
    assert approval["status"] == "pending"

    pending = client.get("/v1/approvals?status=pending", headers=auth(tenant, "approver", "boss")).json()
    assert [a["id"] for a in pending] == [approval["id"]]

    decide = f"/v1/approvals/{approval['id']}/decide"
    r = client.post(decide, json={"decision": "approved"}, headers=auth(tenant, "approver", "boss"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == "boss"
    assert r.json()["verification_event_id"]
    assert events(tenant) == [("manager_approval", 3, "approver:boss", f"approval:{approval['id']}", "T-5")]

    again = client.post(decide, json={"decision": "rejected"}, headers=auth(tenant, "approver", "boss2"))
    assert again.status_code == 409
    assert again.json()["code"] == "approval_decided"
    assert client.get("/v1/approvals", headers=auth(tenant, "approver", "boss")).json() == []
    approved = client.get("/v1/approvals?status=approved", headers=auth(tenant, "approver", "boss")).json()
    assert [a["id"] for a in approved] == [approval["id"]]
    trail = [(e, s) for e, s, _ in audit_log(tenant)]
    assert ("approval_requested", approval["id"]) in trail and ("approval_approved", approval["id"]) in trail


def test_a_rejection_records_no_event(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any, audit_log: AuditLog
) -> None:
    tenant = account()
    approval = _request(client, tenant, auth)
    r = client.post(
        f"/v1/approvals/{approval['id']}/decide", json={"decision": "rejected"}, headers=auth(tenant, "approver", "b")
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["verification_event_id"] is None
    assert events(tenant) == []
    assert ("approval_rejected", approval["id"]) in [(e, s) for e, s, _ in audit_log(tenant)]


def test_the_requester_cannot_approve_their_own_request(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any
) -> None:
    tenant = account()
    approval = _request(client, tenant, auth, subject="sam")
    r = client.post(
        f"/v1/approvals/{approval['id']}/decide", json={"decision": "approved"}, headers=auth(tenant, "approver", "sam")
    )
    assert r.status_code == 403
    assert r.json()["code"] == "approver_is_requester"
    assert events(tenant) == []
    pending = client.get("/v1/approvals", headers=auth(tenant, "approver", "boss")).json()
    assert [a["status"] for a in pending] == ["pending"]


@pytest.mark.parametrize("role", ["agent", "service", "admin", "security"])
def test_only_an_approver_decides(client: TestClient, account: Callable[[], str], auth: Auth, role: str) -> None:
    tenant = account()
    approval = _request(client, tenant, auth)
    r = client.post(
        f"/v1/approvals/{approval['id']}/decide", json={"decision": "approved"}, headers=auth(tenant, role, "x")
    )
    assert r.status_code == 403
    assert r.json()["code"] == "role_forbidden"
    assert client.get("/v1/approvals", headers=auth(tenant, role, "x")).status_code == 403


def test_another_tenants_approvals_are_invisible(
    client: TestClient, account: Callable[[], str], auth: Auth, events: Any
) -> None:
    tenant, other = account(), account()
    approval = _request(client, tenant, auth)
    assert client.get("/v1/approvals", headers=auth(other, "approver", "boss")).json() == []
    r = client.post(
        f"/v1/approvals/{approval['id']}/decide", json={"decision": "approved"}, headers=auth(other, "approver", "b")
    )
    assert r.status_code == 404
    assert r.json()["code"] == "approval_not_found"
    assert events(tenant) == [] and events(other) == []


def test_an_approval_names_a_known_action(client: TestClient, account: Callable[[], str], auth: Auth) -> None:
    tenant = account()
    body = {"ticket_id": "T-5", "action": "make_coffee", "reason": "why not"}
    r = client.post("/v1/accounts/A-1/approvals", json=body, headers=auth(tenant, "agent"))
    assert r.status_code == 422
