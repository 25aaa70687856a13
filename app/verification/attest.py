"""Attested verification: a callback to a number on file, a second person's approval, an identity document.

Each success records a VerificationEvent through app.accounts.repository (its strength is the
method's, from METHOD_STRENGTH) and an audit entry. Functions take a Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.audit import repository as audit
from app.auth import Principal
from app.core.vocabulary import Action
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.logging import get_logger
from app.models.account import Account
from app.models.approval import ApprovalRequest
from app.models.verification import VerificationEvent
from app.settings import Settings

log = get_logger(__name__)

TicketId = Field(min_length=1, max_length=200)
# An id in the company's ID-check system: no spaces and no "@" (never an email or free text).
EVIDENCE_REF_PATTERN = r"^[A-Za-z0-9._:/#+-]{1,200}$"


class CallbackNumber(BaseModel):
    contact: int
    masked: str


class CallbackNumbersOut(BaseModel):
    numbers: list[CallbackNumber]


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = TicketId
    contact: int = Field(ge=0, le=49)
    outcome: Literal["confirmed", "failed"]
    note: str = Field(default="", max_length=500)  # for the agent's own record: never stored or logged


class EventOut(BaseModel):
    """The verification event recorded, if any (a failed callback records none)."""

    event_id: str | None
    method: str
    strength: int | None
    expires_at: datetime | None


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = TicketId
    action: Action
    reason: str = Field(min_length=1, max_length=500)


class ApprovalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    action: str
    ticket_id: str
    reason: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    verification_event_id: str | None
    created_at: datetime


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]


class IdentityDocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = TicketId
    evidence_ref: str = Field(pattern=EVIDENCE_REF_PATTERN)
    provider: Literal["manual"] = "manual"


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """A passed identity-document check: who vouches for it and the reference to record."""

    provider: str
    evidence_ref: str


class DocumentProvider(Protocol):
    """An identity-document check. Raises a DeskguardError when the document does not pass."""

    name: str

    def check(self, evidence_ref: str) -> DocumentCheck: ...


class ManualAttestation:
    """The agent checked the document in the company's ID-check system and gives its reference."""

    name = "manual"

    def check(self, evidence_ref: str) -> DocumentCheck:
        return DocumentCheck(provider=self.name, evidence_ref=f"{self.name}:{evidence_ref}")


DOCUMENT_PROVIDERS: dict[str, DocumentProvider] = {"manual": ManualAttestation()}


def _actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"


def _account(session: Session, tenant_id: str, account_id: str) -> Account:
    account = accounts.get_account(session, tenant_id, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    return account


def mask_phone(phone: str) -> str:
    """'+447700900123' -> '+44 •••• ••01 23': the country code and the last four digits only."""
    digits = "".join(c for c in phone if c.isdigit())
    prefix = ""
    if phone.startswith("+") and len(digits) > 8:
        cc_len = 1 if digits[0] in "17" else 2
        prefix, digits = f"+{digits[:cc_len]} ", digits[cc_len:]
    masked = "•" * max(len(digits) - 4, 0) + digits[-4:]
    head, tail = masked[:-2], masked[-2:]
    groups = [head[i : i + 4] for i in range(0, len(head), 4)] + [tail]
    return prefix + " ".join(g for g in groups if g)


def _record(
    session: Session,
    settings: Settings,
    principal: Principal,
    account: Account,
    method: str,
    now: datetime,
    ticket_id: str,
    evidence_ref: str,
    actor: str | None = None,
) -> VerificationEvent:
    return accounts.add_verification(
        session,
        account.tenant_id,
        account,
        method=method,
        actor=actor or _actor(principal),
        verified_at=now,
        expires_at=now + timedelta(minutes=settings.attestation_valid_minutes),
        evidence_ref=evidence_ref,
        ticket_id=ticket_id,
    )


def _event_out(event: VerificationEvent | None, method: str) -> EventOut:
    if event is None:
        return EventOut(event_id=None, method=method, strength=None, expires_at=None)
    return EventOut(event_id=event.id, method=method, strength=event.strength, expires_at=event.expires_at)


def callback_numbers(session: Session, principal: Principal, account_id: str) -> CallbackNumbersOut:
    phones = accounts.account_on_file(_account(session, principal.tenant, account_id)).phones
    return CallbackNumbersOut(numbers=[CallbackNumber(contact=i, masked=mask_phone(p)) for i, p in enumerate(phones)])


def record_callback(
    session: Session, settings: Settings, principal: Principal, account_id: str, body: CallbackIn, now: datetime
) -> EventOut:
    account = _account(session, principal.tenant, account_id)
    phones = accounts.account_on_file(account).phones
    if body.contact >= len(phones):
        raise InvalidInput(
            "no phone on file at that index", code="contact_not_on_file", details={"on_file": len(phones)}
        )
    event = None
    if body.outcome == "confirmed":
        event = _record(session, settings, principal, account, "callback", now, body.ticket_id, f"phone:{body.contact}")
    audit.record(
        session,
        account.tenant_id,
        _actor(principal),
        f"callback_{body.outcome}",
        "account",
        account_id,
        {"contact": body.contact, "ticket_id": body.ticket_id, "event_id": event.id if event else None},
        at=now,
    )
    log.info("callback_recorded", account=account_id, outcome=body.outcome, event_id=event.id if event else None)
    return _event_out(event, "callback")


def record_identity_document(
    session: Session,
    settings: Settings,
    principal: Principal,
    account_id: str,
    body: IdentityDocumentIn,
    now: datetime,
) -> EventOut:
    account = _account(session, principal.tenant, account_id)
    checked = DOCUMENT_PROVIDERS[body.provider].check(body.evidence_ref)
    event = _record(
        session, settings, principal, account, "identity_document", now, body.ticket_id, checked.evidence_ref
    )
    audit.record(
        session,
        account.tenant_id,
        _actor(principal),
        "identity_document_verified",
        "account",
        account_id,
        {"provider": checked.provider, "event_id": event.id, "ticket_id": body.ticket_id},
        at=now,
    )
    log.info("identity_document_verified", account=account_id, provider=checked.provider, event_id=event.id)
    return _event_out(event, "identity_document")


def request_approval(
    session: Session, principal: Principal, account_id: str, body: ApprovalIn, now: datetime
) -> ApprovalOut:
    account = _account(session, principal.tenant, account_id)
    approval = ApprovalRequest(
        tenant_id=account.tenant_id,
        account_pk=account.id,
        ticket_id=body.ticket_id,
        action=body.action,
        reason=body.reason,
        status="pending",
        requested_by=principal.subject,
        requested_role=principal.role,
        created_at=now,
    )
    session.add(approval)
    session.flush()
    audit.record(
        session,
        account.tenant_id,
        _actor(principal),
        "approval_requested",
        "approval",
        approval.id,
        {"account_id": account_id, "action": body.action, "ticket_id": body.ticket_id},
        at=now,
    )
    log.info("approval_requested", approval_id=approval.id, action=body.action)
    return ApprovalOut.model_validate(approval)


def list_approvals(session: Session, principal: Principal, status: str) -> list[ApprovalOut]:
    rows = session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.tenant_id == principal.tenant, ApprovalRequest.status == status)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
        .limit(500)
    ).all()
    return [ApprovalOut.model_validate(r) for r in rows]


def decide_approval(
    session: Session, settings: Settings, principal: Principal, approval_id: str, body: DecisionIn, now: datetime
) -> ApprovalOut:
    approval = session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.tenant_id == principal.tenant, ApprovalRequest.id == approval_id)
        .execution_options(populate_existing=True)
    ).first()
    if approval is None:
        raise NotFound("approval request not found", code="approval_not_found")
    if approval.requested_by == principal.subject:
        raise Forbidden("a second person must approve: you made this request", code="approver_is_requester")
    # Decide only if still pending: of two concurrent decisions exactly one updates the row.
    claimed = session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == approval.id, ApprovalRequest.status == "pending")
        .values(status=body.decision, decided_by=principal.subject, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise Conflict("this approval request has already been decided", code="approval_decided")
    event = None
    if body.decision == "approved":
        account = session.get(Account, approval.account_pk)
        assert account is not None  # the foreign key cascades deletes
        event = _record(
            session,
            settings,
            principal,
            account,
            "manager_approval",
            now,
            approval.ticket_id,
            f"approval:{approval.id}",
            actor=f"approver:{principal.subject}",
        )
        session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == approval.id)
            .values(verification_event_id=event.id)
            .execution_options(synchronize_session=False)
        )
    session.refresh(approval)
    audit.record(
        session,
        approval.tenant_id,
        _actor(principal),
        f"approval_{body.decision}",
        "approval",
        approval.id,
        {"action": approval.action, "ticket_id": approval.ticket_id, "event_id": event.id if event else None},
        at=now,
    )
    log.info("approval_decided", approval_id=approval.id, decision=body.decision)
    return ApprovalOut.model_validate(approval)
