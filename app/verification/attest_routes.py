"""Callback, manager approval, identity document, and notify-and-undo routes.

GET  /v1/accounts/{id}/callback-numbers              POST /v1/accounts/{id}/verifications/callback
POST /v1/accounts/{id}/verifications/identity-document
POST /v1/accounts/{id}/approvals   GET /v1/approvals   POST /v1/approvals/{approval_id}/decide
POST /v1/accounts/{id}/changes     GET /v1/accounts/{id}/alerts
GET|POST /v1/undo/{token}          (no auth: the token is the credential; only the POST acts)
"""

from __future__ import annotations

from html import escape
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from app.auth import Principal, require_roles
from app.errors import DeskguardError
from app.runtime import Runtime, get_runtime, utc_now
from app.verification import attest, undo

router = APIRouter(tags=["verification"])
AccountId = Path(min_length=1, max_length=200)
Token = Path(min_length=1, max_length=200)

# The undo pages: no scripts, styles or images; a form that may only post back here; never framed.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "</head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def _error_page(exc: DeskguardError) -> HTMLResponse:
    return _page("This link cannot be used", f"<p>{escape(exc.message)}.</p>", exc.status_code)


@router.get("/v1/accounts/{account_id}/callback-numbers", response_model=attest.CallbackNumbersOut)
async def callback_numbers(
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent", "admin")),
    runtime: Runtime = Depends(get_runtime),
) -> attest.CallbackNumbersOut:
    return await runtime.run_io(lambda s: attest.callback_numbers(s, principal, account_id))


@router.post("/v1/accounts/{account_id}/verifications/callback", response_model=attest.EventOut, status_code=201)
async def record_callback(
    body: attest.CallbackIn,
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent")),
    runtime: Runtime = Depends(get_runtime),
) -> attest.EventOut:
    now = utc_now()
    return await runtime.run_io(lambda s: attest.record_callback(s, runtime.settings, principal, account_id, body, now))


@router.post(
    "/v1/accounts/{account_id}/verifications/identity-document", response_model=attest.EventOut, status_code=201
)
async def record_identity_document(
    body: attest.IdentityDocumentIn,
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent")),
    runtime: Runtime = Depends(get_runtime),
) -> attest.EventOut:
    now = utc_now()
    return await runtime.run_io(
        lambda s: attest.record_identity_document(s, runtime.settings, principal, account_id, body, now)
    )


@router.post("/v1/accounts/{account_id}/approvals", response_model=attest.ApprovalOut, status_code=201)
async def request_approval(
    body: attest.ApprovalIn,
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent")),
    runtime: Runtime = Depends(get_runtime),
) -> attest.ApprovalOut:
    now = utc_now()
    return await runtime.run_io(lambda s: attest.request_approval(s, principal, account_id, body, now))


@router.get("/v1/approvals", response_model=list[attest.ApprovalOut])
async def list_approvals(
    status: Literal["pending", "approved", "rejected"] = Query(default="pending"),
    principal: Principal = Depends(require_roles("approver")),
    runtime: Runtime = Depends(get_runtime),
) -> list[attest.ApprovalOut]:
    return await runtime.run_io(lambda s: attest.list_approvals(s, principal, status))


@router.post("/v1/approvals/{approval_id}/decide", response_model=attest.ApprovalOut)
async def decide_approval(
    body: attest.DecisionIn,
    approval_id: str = Path(min_length=1, max_length=36),
    principal: Principal = Depends(require_roles("approver")),
    runtime: Runtime = Depends(get_runtime),
) -> attest.ApprovalOut:
    now = utc_now()
    return await runtime.run_io(
        lambda s: attest.decide_approval(s, runtime.settings, principal, approval_id, body, now)
    )


@router.post("/v1/accounts/{account_id}/changes", response_model=undo.ChangeOut, status_code=201)
async def record_change(
    body: undo.ChangeIn,
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent", "service", "admin")),
    runtime: Runtime = Depends(get_runtime),
) -> undo.ChangeOut:
    now = utc_now()
    return await runtime.run_io(lambda s: undo.record_change(s, runtime.settings, principal, account_id, body, now))


@router.get("/v1/accounts/{account_id}/alerts", response_model=undo.AlertsOut)
async def list_alerts(
    account_id: str = AccountId,
    principal: Principal = Depends(require_roles("agent", "security", "admin")),
    runtime: Runtime = Depends(get_runtime),
) -> undo.AlertsOut:
    return await runtime.run_io(lambda s: undo.list_alerts(s, principal, account_id))


@router.get("/v1/undo/{token}", response_class=HTMLResponse)
async def undo_page(token: str = Token, runtime: Runtime = Depends(get_runtime)) -> HTMLResponse:
    """Read-only (mail scanners prefetch links): shows the button that POSTs back to this URL."""
    now = utc_now()
    try:
        link = await runtime.run_io(lambda s: undo.check_link(s, runtime.settings, token, now))
    except DeskguardError as exc:
        return _error_page(exc)
    label = undo.CHANGE_LABELS[link.change_kind]
    return _page(
        "Was this you?",
        f"<p>The {escape(label)} on your account was changed recently.</p>"
        "<p>If you did <strong>not</strong> make this change, confirm below and our security team "
        "will be alerted at once.</p>"
        '<form method="post">'  # posts back to this very URL
        '<button type="submit">This was not me</button></form>',
    )


@router.post("/v1/undo/{token}", response_class=HTMLResponse)
async def use_undo_link(token: str = Token, runtime: Runtime = Depends(get_runtime)) -> HTMLResponse:
    """Spend the link and raise a critical alert. Errors are JSON with a code (404/410)."""
    now = utc_now()
    await runtime.run_io(lambda s: undo.use_link(s, runtime.settings, token, now))
    return _page("Thank you", "<p>We have alerted our security team. They will contact you.</p>")
