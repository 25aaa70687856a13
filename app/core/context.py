"""The context snapshot handed to the pure core alongside a ticket.

The service layer builds it from the store (account on file, verification events, recent tickets
about the same account); the core never queries anything itself. `now` is the snapshot's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.ticket import AccountOnFile


@dataclass(frozen=True, slots=True)
class VerificationEvent:
    id: str
    method: str
    strength: int
    actor: str
    verified_at: datetime
    expires_at: datetime
    evidence_ref: str = ""

    def valid_at(self, now: datetime) -> bool:
        return self.verified_at <= now < self.expires_at


@dataclass(frozen=True, slots=True)
class RecentTicket:
    """Another ticket about the same account (the current one excluded)."""

    ticket_id: str
    created_at: datetime
    requester_key: str  # a stable, non-reversible key of who wrote in (hash of email/id)
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    account: AccountOnFile | None = None
    verifications: tuple[VerificationEvent, ...] = ()
    recent_tickets: tuple[RecentTicket, ...] = ()
    tenant_domains: tuple[str, ...] = ()
    playbook: str = "consumer"
    velocity_window_hours: int = 24
    requester_key: str = ""  # the same key as RecentTicket.requester_key, for this ticket
