"""Accounts on file, their contacts and verification events. Functions take a Session, never commit.

Every query is scoped by tenant_id. Contact values are stored normalized: emails stripped and
lowercased; phones reduced to digits, keeping a leading "+".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from app.core import context as core_context
from app.core.entities import normalize_email, normalize_phone
from app.core.ticket import AccountOnFile, RecentChange
from app.core.vocabulary import METHOD_STRENGTH
from app.db import insert_missing
from app.errors import InvalidInput, NotFound
from app.models.account import Account, AccountContact
from app.models.verification import VerificationEvent


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be timezone-aware")
    return value


def _select_account(tenant_id: str) -> Select[Account]:
    return (
        select(Account)
        .where(Account.tenant_id == tenant_id)
        .options(selectinload(Account.contacts))
        .execution_options(populate_existing=True)
    )


def upsert_account(
    session: Session,
    tenant_id: str,
    external_id: str,
    name: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    roles: Iterable[str] = (),
    recent_changes: Iterable[RecentChange | Mapping[str, Any]] = (),
) -> Account:
    """Create or update the account `external_id`; its contacts become exactly `emails` + `phones`."""
    if not external_id.strip():
        raise InvalidInput("account id is empty")
    changes = [RecentChange.model_validate(c).model_dump(mode="json") for c in recent_changes]
    wanted = [("email", v) for v in _unique(normalize_email(e) for e in emails)]
    wanted += [("phone", v) for v in _unique(normalize_phone(p) for p in phones)]

    insert_missing(
        session,
        Account,
        {"tenant_id": tenant_id, "external_id": external_id},
        ["tenant_id", "external_id"],
    )
    account = session.scalars(
        _select_account(tenant_id).where(Account.external_id == external_id).with_for_update()
    ).one()
    account.name = name
    account.roles = _unique(roles)
    account.recent_changes = changes

    # Diff rather than replace wholesale: the unit of work inserts before it deletes, so re-adding
    # an unchanged contact would collide with the unique (account, kind, value) constraint.
    current = {(c.kind, c.value): c for c in account.contacts}
    for key, contact in current.items():
        if key not in wanted:
            account.contacts.remove(contact)
    for position, (kind, value) in enumerate(wanted):
        if (kind, value) in current:
            current[kind, value].position = position
        else:
            account.contacts.append(AccountContact(tenant_id=tenant_id, kind=kind, value=value, position=position))
    session.flush()
    return account


def get_account(session: Session, tenant_id: str, external_id: str) -> Account | None:
    return session.scalars(_select_account(tenant_id).where(Account.external_id == external_id)).first()


def _by_contact(session: Session, tenant_id: str, kind: str, value: str) -> Account | None:
    if not value:
        return None
    matches = (
        select(AccountContact.account_pk)
        .where(
            AccountContact.tenant_id == tenant_id,
            AccountContact.kind == kind,
            AccountContact.value == value,
        )
        .scalar_subquery()
    )
    # Several accounts may share a contact: the oldest wins, so the answer is deterministic.
    stmt = _select_account(tenant_id).where(Account.id.in_(matches)).order_by(Account.id).limit(1)
    return session.scalars(stmt).first()


def find_account_by_contact(
    session: Session,
    tenant_id: str,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
) -> Account | None:
    """The account a requester is about: by external id first, then email, then phone."""
    if external_id:
        account = get_account(session, tenant_id, external_id)
        if account is not None:
            return account
    if email:
        account = _by_contact(session, tenant_id, "email", normalize_email(email))
        if account is not None:
            return account
    if phone:
        return _by_contact(session, tenant_id, "phone", normalize_phone(phone))
    return None


def account_on_file(account: Account) -> AccountOnFile:
    """The core's view of an account (contacts must have been loaded, as every getter here does)."""
    contacts = sorted(account.contacts, key=lambda c: (c.position, c.id or 0))
    return AccountOnFile(
        id=account.external_id,
        name=account.name,
        emails=[c.value for c in contacts if c.kind == "email"],
        phones=[c.value for c in contacts if c.kind == "phone"],
        roles=list(account.roles),
        recent_changes=[RecentChange.model_validate(c) for c in account.recent_changes],
    )


def add_verification(
    session: Session,
    tenant_id: str,
    account: Account,
    method: str,
    actor: str,
    verified_at: datetime,
    expires_at: datetime,
    evidence_ref: str = "",
    ticket_id: str | None = None,
) -> VerificationEvent:
    """Record a successful verification. Its strength is the method's (it cannot be claimed higher)."""
    if account.tenant_id != tenant_id:
        raise NotFound("account not found")
    if method not in METHOD_STRENGTH:
        raise InvalidInput(f"unknown verification method {method!r}", details={"method": method})
    if _aware(expires_at, "expires_at") <= _aware(verified_at, "verified_at"):
        raise InvalidInput("expires_at must be after verified_at")
    event = VerificationEvent(
        tenant_id=tenant_id,
        account_pk=account.id,
        method=method,
        strength=METHOD_STRENGTH[method],
        actor=actor,
        verified_at=verified_at,
        expires_at=expires_at,
        evidence_ref=evidence_ref,
        ticket_id=ticket_id,
    )
    session.add(event)
    session.flush()
    return event


def list_valid_verifications(
    session: Session, tenant_id: str, account: Account, now: datetime
) -> list[core_context.VerificationEvent]:
    """Events valid at `now` (verified_at <= now < expires_at), newest first."""
    _aware(now, "now")
    rows: Sequence[VerificationEvent] = session.scalars(
        select(VerificationEvent)
        .where(
            VerificationEvent.tenant_id == tenant_id,
            VerificationEvent.account_pk == account.id,
            VerificationEvent.verified_at <= now,
            VerificationEvent.expires_at > now,
        )
        .order_by(VerificationEvent.verified_at.desc(), VerificationEvent.id)
    ).all()
    return [
        core_context.VerificationEvent(
            id=row.id,
            method=row.method,
            strength=row.strength,
            actor=row.actor,
            verified_at=row.verified_at,
            expires_at=row.expires_at,
            evidence_ref=row.evidence_ref,
        )
        for row in rows
    ]
