"""PUT/GET /v1/accounts/{id} and POST /v1/accounts/{id}/verifications."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from app.accounts import service
from app.accounts.schemas import AccountIn, AccountOut, VerificationIn, VerificationOut
from app.auth import Principal, current_principal, require_roles
from app.runtime import Runtime, get_runtime, utc_now

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.put("/{account_id}", response_model=AccountOut)
async def put_account(
    body: AccountIn,
    account_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(require_roles("service", "admin")),
    runtime: Runtime = Depends(get_runtime),
) -> AccountOut:
    return await runtime.run(lambda s: service.put_account(s, principal, account_id, body))


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(
    account_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(require_roles("service", "admin", "security", "agent", "approver")),
    runtime: Runtime = Depends(get_runtime),
) -> AccountOut:
    return await runtime.run(lambda s: service.get_account(s, principal, account_id))


@router.post("/{account_id}/verifications", response_model=VerificationOut, status_code=201)
async def record_verification(
    body: VerificationIn,
    account_id: str = Path(min_length=1, max_length=200),
    principal: Principal = Depends(current_principal),
    runtime: Runtime = Depends(get_runtime),
) -> VerificationOut:
    now = utc_now()
    return await runtime.run(lambda s: service.record_verification(s, principal, account_id, body, now))
