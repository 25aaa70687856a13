"""Notify and undo: a recorded account change mails a "Was this you?" link to the previous address on file.

The link is `{public_url}/v1/undo/{token}`, token = `<random id>.<HMAC-SHA256(key, id)>`; only the
token's SHA-256 is stored. Following it (GET) only shows a page; its button (POST) spends the link
and raises a critical alert on the account. Functions take a Session and never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.audit import repository as audit
from app.auth import Principal
from app.core.entities import normalize_email
from app.core.ticket import RecentChange
from app.errors import DeskguardError, InvalidInput, NotFound
from app.logging import get_logger
from app.models.account import Account
from app.models.alert import Alert, UndoLink
from app.settings import Settings
from app.verification.mailer import send_mail

log = get_logger(__name__)

MAX_RECENT_CHANGES = 200
CHANGE_LABELS = {"email_change": "email address", "phone_change": "phone number", "mfa_reset": "two-factor sign-in"}


class UndoLinkGone(DeskguardError):
    status_code = 410
    code = "undo_link_used"


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["email_change", "phone_change", "mfa_reset"]
    ticket_id: str = Field(min_length=1, max_length=200)
    previous_email: str | None = Field(default=None, max_length=320)


class ChangeOut(BaseModel):
    kind: str
    at: datetime
    notified: bool
    undo_link_expires_at: datetime | None


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    severity: str
    change_kind: str
    ticket_id: str
    created_at: datetime


class AlertsOut(BaseModel):
    alerts: list[AlertOut]


def _key(settings: Settings) -> bytes:
    if settings.undo_link_secret:
        return settings.undo_link_secret.encode()
    return hmac.new(settings.jwt_secret.encode(), b"deskguard-undo-link-v1", hashlib.sha256).digest()


def _sign(settings: Settings, link_id: str) -> str:
    mac = hmac.new(_key(settings), link_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(settings: Settings) -> tuple[str, str]:
    """A fresh (link id, token)."""
    link_id = secrets.token_urlsafe(24)
    return link_id, f"{link_id}.{_sign(settings, link_id)}"


def _link_for(session: Session, settings: Settings, token: str) -> UndoLink:
    """The link a token names; 404 undo_link_invalid for a bad signature or an unknown token."""
    link_id, _, mac = token.partition(".")
    if not link_id or not hmac.compare_digest(mac.encode(), _sign(settings, link_id).encode()):
        raise NotFound("this link is not valid", code="undo_link_invalid")
    link = session.get(UndoLink, link_id, populate_existing=True)
    if link is None or not hmac.compare_digest(link.token_hash, token_hash(token)):
        raise NotFound("this link is not valid", code="undo_link_invalid")
    return link


def check_link(session: Session, settings: Settings, token: str, now: datetime) -> UndoLink:
    """The link if it can still be used; 404 undo_link_invalid, 410 undo_link_used or undo_link_expired."""
    link = _link_for(session, settings, token)
    if link.used_at is not None:
        raise UndoLinkGone("this link has already been used")
    if link.expires_at <= now:
        raise UndoLinkGone("this link has expired", code="undo_link_expired")
    return link


def _message(settings: Settings, kind: str, token: str, expires_at: datetime) -> str:
    return (
        f"The {CHANGE_LABELS[kind]} on your account was just changed.\n\n"
        "If this was you, you need do nothing.\n\n"
        "If it was NOT you, open this link and confirm, so that our security team can act at once:\n\n"
        f"{settings.public_url.rstrip('/')}/v1/undo/{token}\n\n"
        f"The link works once, until {expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )


def record_change(
    session: Session, settings: Settings, principal: Principal, account_id: str, body: ChangeIn, now: datetime
) -> ChangeOut:
    """Append the change to the account's recent changes; mail an undo link to a previous email on file."""
    account = accounts.get_account(session, principal.tenant, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    on_file = accounts.account_on_file(account)
    previous = normalize_email(body.previous_email) if body.previous_email else None
    if previous is not None and previous not in on_file.emails:
        raise InvalidInput("previous_email is not an email on file for this account", code="contact_not_on_file")
    changes = [*on_file.recent_changes, RecentChange(kind=body.kind, at=now)][-MAX_RECENT_CHANGES:]
    accounts.upsert_account(
        session,
        account.tenant_id,
        account_id,
        name=on_file.name,
        emails=on_file.emails,
        phones=on_file.phones,
        roles=on_file.roles,
        recent_changes=changes,
    )
    link = None
    if previous is not None:
        link = _issue_link(session, settings, account, body, previous, now)
    audit.record(
        session,
        account.tenant_id,
        f"{principal.role}:{principal.subject}",
        "account_change_recorded",
        "account",
        account_id,
        {"kind": body.kind, "ticket_id": body.ticket_id, "undo_link": link.id[:8] if link else None},
        at=now,
    )
    log.info("account_change_recorded", account=account_id, kind=body.kind, notified=link is not None)
    return ChangeOut(
        kind=body.kind, at=now, notified=link is not None, undo_link_expires_at=link.expires_at if link else None
    )


def _issue_link(
    session: Session, settings: Settings, account: Account, body: ChangeIn, to: str, now: datetime
) -> UndoLink:
    link_id, token = new_token(settings)
    link = UndoLink(
        id=link_id,
        tenant_id=account.tenant_id,
        account_pk=account.id,
        change_kind=body.kind,
        ticket_id=body.ticket_id,
        token_hash=token_hash(token),
        expires_at=now + timedelta(days=settings.undo_link_ttl_days),
        created_at=now,
    )
    session.add(link)
    session.flush()
    # Sent inside the unit of work: if the mail server refuses, nothing is recorded (503, retry).
    send_mail(settings, to, "Was this you?", _message(settings, body.kind, token, link.expires_at))
    return link


def use_link(session: Session, settings: Settings, token: str, now: datetime) -> Alert:
    """Spend the link (once) and raise a critical alert on its account."""
    link = check_link(session, settings, token, now)
    claimed = session.execute(
        update(UndoLink)
        .where(UndoLink.id == link.id, UndoLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # another request spent it first
        raise UndoLinkGone("this link has already been used")
    alert = Alert(
        tenant_id=link.tenant_id,
        account_pk=link.account_pk,
        kind="change_reported",
        severity="critical",
        change_kind=link.change_kind,
        ticket_id=link.ticket_id,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    session.execute(
        update(UndoLink)
        .where(UndoLink.id == link.id)
        .values(alert_id=alert.id)
        .execution_options(synchronize_session=False)
    )
    account = session.get(Account, link.account_pk)
    audit.record(
        session,
        link.tenant_id,
        "account_owner:undo_link",
        "change_reported",
        "account",
        account.external_id if account else str(link.account_pk),
        {"alert_id": alert.id, "kind": link.change_kind, "ticket_id": link.ticket_id},
        at=now,
    )
    log.warning("change_reported", alert_id=alert.id, tenant=link.tenant_id, kind=link.change_kind)
    return alert


def list_alerts(session: Session, principal: Principal, account_id: str) -> AlertsOut:
    account = accounts.get_account(session, principal.tenant, account_id)
    if account is None:
        raise NotFound("account not found", code="account_not_found")
    rows = session.scalars(
        select(Alert)
        .where(Alert.tenant_id == principal.tenant, Alert.account_pk == account.id)
        .order_by(Alert.created_at.desc(), Alert.id)
        .limit(500)
    ).all()
    return AlertsOut(alerts=[AlertOut.model_validate(r) for r in rows])
