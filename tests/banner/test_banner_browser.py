"""The banner in a real browser (Debian's Chromium via Playwright, never a downloaded one) against a
real uvicorn server: level and reasons render, a recorded verification turns a step satisfied without a
reload, hostile ticket text stays text, and screenshots land in docs/screenshots/."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.auth import issue_token
from app.core.engine import Assessor
from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from tests.banner.test_banner_api import XSS

pw = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LOW = "Hi, how do I export last month's invoices as PDF? Thanks a lot"
HIGH = "Please change my login email to jm.recovery@gmail.com today, my old one is closed."
CRITICAL = (
    "I lost my phone and can't get into my old email, please change my login email to "
    "jm.recovery@gmail.com and turn off 2FA, I need it today"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, assessor: Assessor) -> Iterator[str]:
    runtime = Runtime.start(settings, assessor=assessor)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, runtime), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if srv.started:
                break
            threading.Event().wait(0.02)
        assert srv.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        runtime.close()


@pytest.fixture
def api(server: str, settings: Settings) -> Callable[..., Any]:
    def call(method: str, path: str, tenant: str, role: str = "service", **kw: Any) -> Any:
        token = issue_token(settings, tenant=tenant, role=role, subject="agent-1")
        r = httpx.request(method, server + path, headers={"Authorization": f"Bearer {token}"}, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    return call


def _score(api: Callable[..., Any], tenant: str, ticket_id: str, body: str) -> dict[str, Any]:
    return dict(
        api(
            "POST",
            "/v1/score",
            tenant,
            json={
                "ticket_id": ticket_id,
                "channel": "email",
                "subject": "help",
                "messages": [{"author": "requester", "body": body}],
                "requester": {"email": "jamie@example.com"},
            },
        )
    )


def _open(page: Any, server: str, api: Callable[..., Any], tenant: str, ticket_id: str) -> None:
    token = api("POST", "/v1/banner/session", tenant, role="agent", json={"ticket_id": ticket_id})["token"]
    page.goto(f"{server}/banner?ticket={ticket_id}#session={token}")
    page.wait_for_selector(".level")


def test_banner_in_chromium(server: str, api: Callable[..., Any], new_tenant: Callable[..., str]) -> None:
    assert CHROMIUM.exists(), "Debian's chromium must be installed at /usr/bin/chromium"
    tenant = new_tenant()
    api(
        "PUT",
        "/v1/accounts/acc-1",
        tenant,
        json={"name": "Jamie Moore", "emails": ["jamie@example.com"], "phones": ["+1 415 555 0100"], "roles": []},
    )
    levels = {
        name: _score(api, tenant, name, text)["level"]
        for name, text in (("T-LOW", LOW), ("T-HIGH", HIGH), ("T-CRIT", CRITICAL), ("T-XSS", XSS))
    }
    assert levels == {"T-LOW": "low", "T-HIGH": "high", "T-CRIT": "critical", "T-XSS": levels["T-XSS"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 320, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            _open(page, server, api, tenant, "T-LOW")
            assert "LOW" in page.inner_text(".level")
            page.screenshot(path=str(SHOTS / "banner-low.png"), full_page=True)

            _open(page, server, api, tenant, "T-CRIT")
            assert "CRITICAL" in page.inner_text(".level")
            page.screenshot(path=str(SHOTS / "banner-critical.png"), full_page=True)

            _open(page, server, api, tenant, "T-HIGH")
            assert "HIGH" in page.inner_text(".level")
            assert page.locator(".reasons li").count() >= 1
            assert page.locator(".reasons mark").count() >= 1
            pending = page.locator(".step-pending")
            assert pending.count() >= 1
            page.screenshot(path=str(SHOTS / "banner-high.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
            # Verify through the existing API; the open page must pick it up by polling, no reload.
            api(
                "POST",
                "/v1/accounts/acc-1/verifications",
                tenant,
                json={"method": "email_code", "evidence_ref": "otp:1", "ticket_id": "T-HIGH"},
            )
            page.wait_for_selector(".step-satisfied", timeout=15_000)
            assert "done" in page.inner_text(".step-satisfied")
            page.screenshot(path=str(SHOTS / "banner-after-verification.png"), full_page=True)

            # Feedback through the keyboard-reachable form.
            page.get_by_label("Attack").check()
            page.get_by_role("button", name="Send feedback").click()
            page.wait_for_selector("#feedback-status:has-text('saved')")

            _open(page, server, api, tenant, "T-XSS")
            page.wait_for_selector(".excerpt")
            shown = page.inner_text("main")
            assert "<script>alert(1)</script>" in shown  # the payload is visible as text
            assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
            assert page.locator("main a").count() == 0
            page.screenshot(path=str(SHOTS / "banner-xss-as-text.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
