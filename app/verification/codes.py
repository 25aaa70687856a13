"""One-time codes to a contact on file: start a challenge (email or SMS) and check the code.

Functions take a Session and never commit. The code goes only to a contact on file, chosen by its
index: a request can never name an address. Email codes are stored as an HMAC keyed with a server
secret; SMS codes stay at the provider. A wrong answer is returned as an error *value* so the route
can commit the spent attempt before answering (raising would roll it back).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.assessments.service import tenant_for
from app.audit import repository as audit
from app.auth import Principal
from app.errors import Conflict, DeskguardError, InvalidInput, NotFound
from app.logging import get_logger
from app.models.account import Account
from app.models.types import new_id
from app.models.verification_challenge import VerificationChallenge
from app.settings import Settings
from app.verification.mailer import send_mail
from app.verification.sms import SmsProvider

log = get_logger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RATE_WINDOW = timedelta(minutes=15)
RATE_LIMIT = 3  # challenges per account per window, both methods together
EVENT_TTL = timedelta(minutes=30)
SUBJECT = "Your verification code"


class RateLimited(DeskguardError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class ChallengeIn(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=200)
    contact: int = Field(default=0, ge=0, le=100)  # index into the account's emails (or phones) on file


class ChallengeOut(BaseModel):
    challenge_id: str
    method: str
    sent_to: str  # masked
    expires_at: datetime
    attempts_left: int


class CheckIn(BaseModel):
    code: str = Field(min_length=4, max_length=10, pattern=r"^[0-9]+$")


class CheckOut(BaseModel):
    status: str
    verification_event_id: str
    method: str
    expires_at: datetime


@dataclass(frozen=True)
class CheckResult:
    """Exactly one of `out` (satisfied) and `error` (to raise once the attempt is committed)."""

    out: CheckOut | None = None
    error: DeskguardError | None = None


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(settings: Settings, challenge_id: str, code: str) -> str:
    key = hmac.new(settings.jwt_secret.encode(), b"deskguard/verification-code/v1", hashlib.sha256).digest()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    labels = domain.split(".")
    host, tld = labels[0], labels[-1] if len(labels) > 1 else ""
    masked = f"{local[:1]}***@{host[:1]}***"
    return f"{masked}.{tld}" if tld else masked


def mask_phone(phone: str) -> str:
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


def email_delivery(settings: Settings) -> Callable[[str, str], str]:
    """Send a fresh code to `to` by SMTP; the challenge stores only its HMAC."""

    def deliver(to: str, challenge_id: str) -> str:
        code = new_code()
        text = (
            f"Your verification code is {code}\n\n"
            "Give it to the support agent who asked for it. It expires in 10 minutes.\n"
            "If you have not contacted support, do not share this code with anyone.\n"
        )
        send_mail(settings, to, SUBJECT, text)
        return code_hash(settings, challenge_id, code)

    return deliver


def sms_delivery(provider: SmsProvider) -> Callable[[str, str], str]:
    """The provider generates and sends the code; the challenge stores its reference."""

    def deliver(to: str, challenge_id: str) -> str:
        return provider.start(to)

    return deliver


def _actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"


def _locked_account(session: Session, tenant_id: str, account_id: str) -> Account:
    account = accounts.get_account(session, tenant_id, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    # Serialize challenges per account (PostgreSQL row lock; SQLite serializes writers anyway).
    session.scalars(select(Account.id).where(Account.id == account.id).with_for_update()).one()
    return account


def _check_rate(session: Session, account: Account, now: datetime) -> None:
    since = now - RATE_WINDOW
    recent = session.execute(
        select(func.count(), func.min(VerificationChallenge.created_at)).where(
            VerificationChallenge.tenant_id == account.tenant_id,
            VerificationChallenge.account_pk == account.id,
            VerificationChallenge.created_at > since,
        )
    ).one()
    count, oldest = recent
    if count >= RATE_LIMIT:
        wait = max(1, math.ceil((oldest + RATE_WINDOW - now).total_seconds())) if oldest else 60
        raise RateLimited(f"at most {RATE_LIMIT} codes per account every 15 minutes", retry_after=wait)


def start_challenge(
    session: Session,
    principal: Principal,
    account_id: str,
    body: ChallengeIn,
    method: str,
    now: datetime,
    deliver: Callable[[str, str], str],
) -> ChallengeOut:
    """Create a challenge and deliver a code to the contact on file.

    `deliver(to, challenge_id)` sends the code and returns the stored reference: for email the code
    hash, for SMS the provider's reference (see `email_delivery` / `sms_delivery`).
    """
    tenant = tenant_for(session, principal.tenant)
    account = _locked_account(session, tenant.id, account_id)
    on_file = accounts.account_on_file(account)
    contacts = on_file.emails if method == "email_code" else on_file.phones
    kind = "email" if method == "email_code" else "phone"
    if body.contact >= len(contacts):
        raise InvalidInput(f"no {kind} on file at index {body.contact}", code="contact_not_on_file")
    _check_rate(session, account, now)
    to = contacts[body.contact]
    challenge = VerificationChallenge(
        id=new_id(),
        tenant_id=tenant.id,
        account_pk=account.id,
        method=method,
        ticket_id=body.ticket_id,
        contact_index=body.contact,
        status="pending",
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        created_by=_actor(principal),
        expires_at=now + CODE_TTL,
        created_at=now,
    )
    reference = deliver(to, challenge.id)
    if method == "email_code":
        challenge.code_hash = reference
    else:
        challenge.provider_ref = reference
    session.add(challenge)
    session.flush()
    audit.record(
        session,
        tenant.id,
        _actor(principal),
        "verification_code_sent",
        "account",
        account_id,
        {"method": method, "challenge_id": challenge.id, "contact": body.contact, "ticket_id": body.ticket_id},
        at=now,
    )
    log.info("verification_code_sent", tenant=tenant.id, challenge_id=challenge.id, method=method)
    return ChallengeOut(
        challenge_id=challenge.id,
        method=method,
        sent_to=mask_email(to) if method == "email_code" else mask_phone(to),
        expires_at=challenge.expires_at,
        attempts_left=MAX_ATTEMPTS,
    )


def _refuse(
    session: Session, challenge: VerificationChallenge, principal: Principal, error: DeskguardError
) -> CheckResult:
    audit.record(
        session,
        challenge.tenant_id,
        _actor(principal),
        "verification_code_rejected",
        "verification_challenge",
        challenge.id,
        {"reason": error.code, "attempts": challenge.attempts},
    )
    log.info("verification_code_rejected", challenge_id=challenge.id, reason=error.code, attempts=challenge.attempts)
    return CheckResult(error=error)


def check_code(
    session: Session,
    settings: Settings,
    sms: Callable[[], SmsProvider],
    principal: Principal,
    challenge_id: str,
    code: str,
    now: datetime,
) -> CheckResult:
    challenge = session.scalars(
        select(VerificationChallenge)
        .where(VerificationChallenge.id == challenge_id, VerificationChallenge.tenant_id == principal.tenant)
        .with_for_update()
    ).first()
    if challenge is None:
        raise NotFound("verification challenge not found", code="challenge_not_found")
    if challenge.status == "satisfied":
        return _refuse(session, challenge, principal, Conflict("this code was already used", code="code_used"))
    if challenge.status == "exhausted" or challenge.attempts >= challenge.max_attempts:
        error = InvalidInput("too many wrong codes: send a new one", code="code_attempts_exhausted")
        return _refuse(session, challenge, principal, error)
    if now >= challenge.expires_at:
        return _refuse(session, challenge, principal, InvalidInput("the code has expired", code="code_expired"))

    if challenge.method == "email_code":
        right = hmac.compare_digest(challenge.code_hash, code_hash(settings, challenge.id, code))
    else:
        right = sms().check(challenge.provider_ref, code)

    if not right:
        challenge.attempts += 1
        left = challenge.max_attempts - challenge.attempts
        if left <= 0:
            challenge.status = "exhausted"
            error = InvalidInput("too many wrong codes: send a new one", code="code_attempts_exhausted")
        else:
            error = InvalidInput("the code is not right", code="code_invalid", details={"attempts_left": left})
        session.flush()
        return _refuse(session, challenge, principal, error)

    account = session.scalars(
        select(Account).where(Account.id == challenge.account_pk, Account.tenant_id == challenge.tenant_id)
    ).one()
    event = accounts.add_verification(
        session,
        challenge.tenant_id,
        account,
        method=challenge.method,
        actor=_actor(principal),
        verified_at=now,
        expires_at=now + EVENT_TTL,
        evidence_ref=f"challenge:{challenge.id}",
        ticket_id=challenge.ticket_id,
    )
    challenge.status = "satisfied"
    challenge.used_at = now
    challenge.verification_event_id = event.id
    session.flush()
    audit.record(
        session,
        challenge.tenant_id,
        _actor(principal),
        "verification_recorded",
        "account",
        account.external_id,
        {
            "method": challenge.method,
            "event_id": event.id,
            "challenge_id": challenge.id,
            "ticket_id": challenge.ticket_id,
        },
        at=now,
    )
    log.info("verification_code_accepted", challenge_id=challenge.id, event_id=event.id, method=challenge.method)
    return CheckResult(
        out=CheckOut(
            status="satisfied", verification_event_id=event.id, method=event.method, expires_at=event.expires_at
        )
    )
