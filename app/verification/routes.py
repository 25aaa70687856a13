"""One-time codes: POST /v1/accounts/{id}/verifications/email-code|sms-code and
POST /v1/verification-challenges/{id}/check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from app.auth import Principal, require_roles
from app.runtime import Runtime, get_runtime, utc_now
from app.verification import codes
from app.verification.sms import SmsProvider, provider_from_settings

router = APIRouter(tags=["verification"])
_roles = require_roles("agent", "service", "admin")


def get_sms_provider(request: Request) -> SmsProvider:
    """One provider per app, made on first use (tests may set `app.state.sms_provider`)."""
    provider: SmsProvider | None = getattr(request.app.state, "sms_provider", None)
    if provider is None:
        runtime: Runtime = request.app.state.runtime
        provider = provider_from_settings(runtime.settings)
        request.app.state.sms_provider = provider
    return provider


def _rate_limited(exc: codes.RateLimited) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers={"Retry-After": str(exc.retry_after)})


@router.post("/v1/accounts/{account_id}/verifications/email-code", response_model=codes.ChallengeOut, status_code=201)
async def send_email_code(
    body: codes.ChallengeIn,
    account_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(_roles),
    runtime: Runtime = Depends(get_runtime),
) -> codes.ChallengeOut | JSONResponse:
    deliver = codes.email_delivery(runtime.settings)
    now = utc_now()
    try:
        return await runtime.run_io(
            lambda s: codes.start_challenge(s, principal, account_id, body, "email_code", now, deliver)
        )
    except codes.RateLimited as exc:
        return _rate_limited(exc)


@router.post("/v1/accounts/{account_id}/verifications/sms-code", response_model=codes.ChallengeOut, status_code=201)
async def send_sms_code(
    body: codes.ChallengeIn,
    account_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(_roles),
    runtime: Runtime = Depends(get_runtime),
    sms: SmsProvider = Depends(get_sms_provider),
) -> codes.ChallengeOut | JSONResponse:
    deliver = codes.sms_delivery(sms)
    now = utc_now()
    try:
        return await runtime.run_io(
            lambda s: codes.start_challenge(s, principal, account_id, body, "sms_code", now, deliver)
        )
    except codes.RateLimited as exc:
        return _rate_limited(exc)


@router.post("/v1/verification-challenges/{challenge_id}/check", response_model=codes.CheckOut)
async def check_code(
    body: codes.CheckIn,
    request: Request,
    challenge_id: str = Path(min_length=1, max_length=36),
    principal: Principal = Depends(_roles),
    runtime: Runtime = Depends(get_runtime),
) -> codes.CheckOut:
    now = utc_now()
    result = await runtime.run_io(
        lambda s: codes.check_code(
            s, runtime.settings, lambda: get_sms_provider(request), principal, challenge_id, body.code, now
        )
    )
    if result.error is not None:  # raised only now, after the spent attempt was committed
        raise result.error
    assert result.out is not None
    return result.out
