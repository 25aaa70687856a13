"""Identity and verification state: accounts on file and the verification events recorded for them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.accounts.schemas import AccountIn, AccountOut, VerificationIn, VerificationOut
from app.assessments.service import tenant_for
from app.audit import repository as audit
from app.auth import Principal
from app.errors import Forbidden, InvalidInput, NotFound
from app.models.account import Account

DEFAULT_TTL = {"authenticated_session": 60, "cooling_off": 60 * 24 * 7}
DEFAULT_TTL_MINUTES = 30
# Methods whose proof is a person's attestation: an agent may record them. Methods that carry
# machine proof (codes, helpdesk sessions) are recorded only by the service that checked the proof.
ATTESTED_METHODS = frozenset({"callback", "identity_document", "in_person", "knowledge_check", "manager_approval"})
APPROVER_ONLY = frozenset({"manager_approval"})


def account_out(account: Account) -> AccountOut:
    return AccountOut(**dict(accounts.account_on_file(account)), updated_at=account.updated_at)


def put_account(session: Session, principal: Principal, account_id: str, body: AccountIn) -> AccountOut:
    tenant = tenant_for(session, principal.tenant)
    existed = accounts.get_account(session, tenant.id, account_id) is not None
    account = accounts.upsert_account(
        session,
        tenant.id,
        account_id,
        name=body.name,
        emails=body.emails,
        phones=body.phones,
        roles=body.roles,
        recent_changes=body.recent_changes,
    )
    audit.record(
        session,
        tenant.id,
        f"{principal.role}:{principal.subject}",
        "account_updated" if existed else "account_created",
        "account",
        account_id,
        {"emails": len(body.emails), "phones": len(body.phones), "roles": sorted(body.roles)},
    )
    return account_out(account)


def get_account(session: Session, principal: Principal, account_id: str) -> AccountOut:
    account = accounts.get_account(session, principal.tenant, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    return account_out(account)


def _check_may_record(principal: Principal, method: str) -> None:
    if principal.role in ("service", "admin"):
        return
    if method in APPROVER_ONLY and principal.role != "approver":
        raise Forbidden("only an approver records a manager approval", code="approver_required")
    if principal.role in ("agent", "approver") and method in ATTESTED_METHODS:
        return
    raise Forbidden(
        f"your role may not record a {method} verification: it must come from the check itself",
        code="verification_method_forbidden",
    )


def record_verification(
    session: Session, principal: Principal, account_id: str, body: VerificationIn, now: datetime
) -> VerificationOut:
    _check_may_record(principal, body.method)
    tenant = tenant_for(session, principal.tenant)
    account = accounts.get_account(session, tenant.id, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    verified_at = body.verified_at or now
    if verified_at.tzinfo is None:
        raise InvalidInput("verified_at needs a time zone", code="naive_datetime")
    if verified_at > now + timedelta(minutes=5):
        raise InvalidInput("verified_at is in the future", code="verified_in_future")
    if body.expires_at is not None and body.ttl_minutes is not None:
        raise InvalidInput("give expires_at or ttl_minutes, not both", code="expiry_conflict")
    expires_at = body.expires_at or verified_at + timedelta(
        minutes=body.ttl_minutes or DEFAULT_TTL.get(body.method, DEFAULT_TTL_MINUTES)
    )
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone", code="naive_datetime")
    actor = body.actor or f"{principal.role}:{principal.subject}"
    event = accounts.add_verification(
        session,
        tenant.id,
        account,
        method=body.method,
        actor=actor,
        verified_at=verified_at,
        expires_at=expires_at,
        evidence_ref=body.evidence_ref,
        ticket_id=body.ticket_id,
    )
    audit.record(
        session,
        tenant.id,
        f"{principal.role}:{principal.subject}",
        "verification_recorded",
        "account",
        account_id,
        {"method": body.method, "event_id": event.id, "ticket_id": body.ticket_id},
    )
    return VerificationOut.model_validate(event)
