"""Build the context snapshot the pure core reads, from the store (or, for dry runs, from the ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.accounts import repository as accounts
from app.core.context import Context, VerificationEvent
from app.core.ticket import AccountOnFile, Ticket
from app.models.account import Account
from app.models.tenant import Tenant
from app.tickets import repository as tickets

AUTHENTICATED_SESSION_TTL = timedelta(hours=1)
VELOCITY_WINDOW_HOURS = 24


@dataclass(frozen=True, slots=True)
class Snapshot:
    context: Context
    account: Account | None  # the stored account, when there is one
    requester_key: str


def requester_key(ticket: Ticket) -> str:
    r = ticket.requester
    return tickets.requester_key_for(email=r.email, external_id=r.external_id or r.phone)


def _helpdesk_session(ticket: Ticket, now: datetime) -> VerificationEvent:
    return VerificationEvent(
        id=f"helpdesk-session:{ticket.ticket_id}",
        method="authenticated_session",
        strength=2,
        actor="helpdesk",
        verified_at=now,
        expires_at=now + AUTHENTICATED_SESSION_TTL,
        evidence_ref=f"ticket:{ticket.ticket_id}",
    )


def offline_context(ticket: Ticket, now: datetime, playbook: str, tenant_domains: tuple[str, ...] = ()) -> Context:
    """A dry-run snapshot: only what the ticket itself carries; no store is read or written."""
    verifications = (_helpdesk_session(ticket, now),) if ticket.requester.authenticated else ()
    return Context(
        now=now,
        account=ticket.account,
        verifications=verifications,
        tenant_domains=tenant_domains,
        playbook=playbook,
        velocity_window_hours=VELOCITY_WINDOW_HOURS,
        requester_key=requester_key(ticket),
    )


def _find_account(session: Session, tenant_id: str, ticket: Ticket) -> tuple[AccountOnFile | None, Account | None]:
    """The account the ticket is about: as described inline, else looked up by the requester's contacts."""
    if ticket.account is not None:
        return ticket.account, accounts.get_account(session, tenant_id, ticket.account.id)
    r = ticket.requester
    stored = accounts.find_account_by_contact(
        session, tenant_id, email=r.email or None, phone=r.phone or None, external_id=r.external_id or None
    )
    return (accounts.account_on_file(stored) if stored else None), stored


def _keep_on_file(session: Session, tenant_id: str, account: AccountOnFile) -> Account:
    """First sight of an account the helpdesk describes inline: keep it on file."""
    return accounts.upsert_account(
        session,
        tenant_id,
        account.id,
        name=account.name,
        emails=account.emails,
        phones=account.phones,
        roles=account.roles,
        recent_changes=account.recent_changes,
    )


def verification_context(session: Session, ticket: Ticket, tenant_id: str, now: datetime) -> Context:
    """What re-evaluating a stored assessment needs: the account on file and its valid verifications.

    Read-only: nothing is recorded or created.
    """
    on_file, stored = _find_account(session, tenant_id, ticket)
    verifications = accounts.list_valid_verifications(session, tenant_id, stored, now) if stored else []
    return Context(now=now, account=on_file, verifications=tuple(verifications))


def stored_context(session: Session, tenant: Tenant, ticket: Ticket, now: datetime) -> Snapshot:
    """The snapshot for a ticket of `tenant`: account on file, valid verifications, recent tickets.

    A helpdesk that says the requester is signed in is recorded as an `authenticated_session`
    verification event on the account, so the step it satisfies is backed by a stored event.
    """
    on_file, stored = _find_account(session, tenant.id, ticket)
    if stored is None and on_file is not None:
        stored = _keep_on_file(session, tenant.id, on_file)
    key = requester_key(ticket)
    verifications: list[VerificationEvent] = []
    recent = []
    if stored is not None:
        if ticket.requester.authenticated:
            accounts.add_verification(
                session,
                tenant.id,
                stored,
                method="authenticated_session",
                actor="helpdesk",
                verified_at=now,
                expires_at=now + AUTHENTICATED_SESSION_TTL,
                evidence_ref=f"ticket:{ticket.ticket_id}",
                ticket_id=ticket.ticket_id,
            )
        verifications = accounts.list_valid_verifications(session, tenant.id, stored, now)
        since = now - timedelta(hours=VELOCITY_WINDOW_HOURS)
        recent = tickets.recent_tickets_for_account(
            session, tenant.id, stored, since, exclude_ticket_id=ticket.ticket_id
        )
    context = Context(
        now=now,
        account=on_file,
        verifications=tuple(verifications),
        recent_tickets=tuple(recent),
        tenant_domains=tuple(tenant.domains),
        playbook=tenant.playbook,
        velocity_window_hours=VELOCITY_WINDOW_HOURS,
        requester_key=key,
    )
    return Snapshot(context=context, account=stored, requester_key=key)
