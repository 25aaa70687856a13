"""The banner page and its session-scoped API: CSP, isolation, feedback, escalation, hostile ticket text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker, session_scope
from app.models.audit import AuditEntry
from app.models.feedback import Feedback
from app.settings import Settings

XSS = (
    "Reset my password now <script>alert(1)</script> <img src=x onerror=alert(1)> "
    'see <a href="javascript:alert(1)">here</a> and turn off 2FA'
)
Scored = Callable[..., dict[str, Any]]
SessionFor = Callable[[str, str], str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_page_has_strict_csp_and_no_ticket_data(client: TestClient) -> None:
    r = client.get("/banner", params={"ticket": "zendesk:42"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "frame-ancestors 'self' https://*.zendesk.com",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "zendesk:42" not in r.text and "<script>" not in r.text.replace('<script src="/banner/static/banner.js"', "")
    js = client.get("/banner/static/banner.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "insertAdjacentHTML" not in js.text and "eval(" not in js.text
    assert client.get("/banner/static/../routes.py").status_code == 404
    assert client.get("/banner/static/page.py").status_code == 404


def test_session_reads_its_ticket_only(
    client: TestClient, new_tenant: Callable[..., str], scored: Scored, session_for: SessionFor
) -> None:
    tenant = new_tenant()
    first = scored(tenant, "T-1")
    scored(tenant, "T-2")
    token = session_for(tenant, "T-1")
    r = client.get("/v1/banner/assessment", params={"ticket_id": "T-1"}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["assessment_id"] == first["assessment_id"]
    assert r.json()["level"] in ("high", "critical")
    for path in ("/v1/banner/assessment", "/v1/banner/ticket"):
        other = client.get(path, params={"ticket_id": "T-2"}, headers=bearer(token))
        assert other.status_code == 403 and other.json()["code"] == "ticket_mismatch"
    fb = client.post("/v1/banner/feedback", headers=bearer(token), json={"ticket_id": "T-2", "verdict": "attack"})
    assert fb.status_code == 403 and fb.json()["code"] == "ticket_mismatch"


def test_other_tenant_cannot_see_the_ticket(
    client: TestClient, new_tenant: Callable[..., str], scored: Scored, session_for: SessionFor
) -> None:
    a, b = new_tenant(), new_tenant()
    scored(a, "T-1")
    token_b = session_for(b, "T-1")  # same ticket id, other tenant
    r = client.get("/v1/banner/assessment", params={"ticket_id": "T-1"}, headers=bearer(token_b))
    assert r.status_code == 404 and r.json()["code"] == "assessment_not_found"
    r = client.get("/v1/banner/ticket", params={"ticket_id": "T-1"}, headers=bearer(token_b))
    assert r.status_code == 404 and r.json()["code"] == "ticket_not_found"
    fb = client.post("/v1/banner/feedback", headers=bearer(token_b), json={"ticket_id": "T-1", "verdict": "attack"})
    assert fb.status_code == 404


def test_feedback_is_stored_with_the_assessment(
    client: TestClient, new_tenant: Callable[..., str], scored: Scored, session_for: SessionFor, settings: Settings
) -> None:
    tenant = new_tenant()
    assessment = scored(tenant, "T-9")
    token = session_for(tenant, "T-9")
    bad = client.post("/v1/banner/feedback", headers=bearer(token), json={"ticket_id": "T-9", "verdict": "maybe"})
    assert bad.status_code == 422
    r = client.post(
        "/v1/banner/feedback",
        headers=bearer(token),
        json={"ticket_id": "T-9", "verdict": "attack", "comment": "caller could not pass callback"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["assessment_id"] == assessment["assessment_id"]
    esc = client.post("/v1/banner/escalate", headers=bearer(token), json={"ticket_id": "T-9"})
    assert esc.status_code == 201 and esc.json()["escalated"] is True
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            rows = s.scalars(select(Feedback).where(Feedback.tenant_id == tenant)).all()
            assert [(f.assessment_id, f.verdict, f.comment, f.actor) for f in rows] == [
                (assessment["assessment_id"], "attack", "caller could not pass callback", "tester")
            ]
            events = s.scalars(select(AuditEntry.event).where(AuditEntry.tenant_id == tenant)).all()
            assert "banner_feedback" in events and "banner_escalated" in events
    finally:
        engine.dispose()


def test_hostile_ticket_text_is_returned_as_data(
    client: TestClient, new_tenant: Callable[..., str], scored: Scored, session_for: SessionFor
) -> None:
    tenant = new_tenant()
    scored(tenant, "T-X", body=XSS)
    token = session_for(tenant, "T-X")
    r = client.get("/v1/banner/ticket", params={"ticket_id": "T-X"}, headers=bearer(token))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["messages"][0]["body"] == XSS
    page = client.get("/banner", params={"ticket": "T-X"})
    assert "alert(1)" not in page.text


def test_expired_or_forged_session_is_refused(client: TestClient, settings: Settings) -> None:
    import time

    from jose import jwt

    now = int(time.time())
    base = {"iss": settings.jwt_issuer, "aud": "deskguard-banner", "sub": "a", "tenant": "t", "ticket_id": "x"}
    expired = jwt.encode({**base, "iat": now - 4000, "exp": now - 3600}, settings.jwt_secret, algorithm="HS256")
    forged = jwt.encode({**base, "iat": now, "exp": now + 60}, "not-the-secret" * 3, algorithm="HS256")
    for token, code in ((expired, "token_expired"), (forged, "token_invalid")):
        r = client.get("/v1/banner/assessment", params={"ticket_id": "x"}, headers=bearer(token))
        assert r.status_code == 401 and r.json()["code"] == code
