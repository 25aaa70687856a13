"""The adapter protocol every helpdesk integration implements, and the shapes that cross it.

Adapters only translate between a helpdesk and Deskguard: they verify and parse the helpdesk's
webhooks, and write a note, tags and a field back over its API. They import nothing from detectors,
services or the database; the machinery in `app.integrations` and `app.hooks` drives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from app.core.ticket import Ticket
from integrations.http import HelpdeskAPI


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """What an adapter sees of a webhook delivery: the exact raw body and the headers, lower-cased."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    url: str = ""  # the full URL the helpdesk called, as received
    client_ip: str = ""


@dataclass(frozen=True, slots=True)
class IntegrationConfig:
    """One installed integration, with its secrets decrypted (never logged, never returned)."""

    id: str
    tenant_id: str
    provider: str
    secret: str  # the webhook signing secret (or shared secret where the vendor does not sign)
    credentials: Mapping[str, str]  # API credentials, per the adapter's `credential_fields`
    api_base_url: str  # e.g. https://acme.zendesk.com; explicit for self-hosted helpdesks and tests
    options: Mapping[str, Any] = field(default_factory=dict)  # custom field id, IP allowlist, ...


@dataclass(frozen=True, slots=True)
class CredentialField:
    name: str
    help: str
    required: bool = True
    secret: bool = True  # encrypted at rest, never printed


@dataclass(frozen=True, slots=True)
class Parsed:
    """A delivery read into Deskguard's shapes.

    `ticket` is None when the delivery is not something to assess (an agent's or Deskguard's own
    note, a tag change, an event type Deskguard does not subscribe to); `ignored` says why.
    `ref` is the helpdesk's own id of the ticket or conversation, used for every write-back call.
    `lookup` carries ids an adapter needs to complete a thin event (e.g. Zendesk's requester id).
    """

    ref: str
    ticket: Ticket | None
    ignored: str = ""
    lookup: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Note:
    """What Deskguard writes back for one assessment. `marker` is unique per assessment and appears in
    the note's text, so a write-back retried after a crash can see that its note already exists."""

    assessment_id: str
    marker: str
    level: str
    score: int
    headline: str
    reasons: tuple[str, ...]
    steps: tuple[str, ...]  # pending required steps, agent wording
    forbidden: tuple[str, ...]
    tags: tuple[str, ...]  # to add, e.g. ("deskguard", "deskguard-high")
    stale_tags: tuple[str, ...]  # Deskguard's other level tags, to remove
    text: str  # the note as plain text
    html: str  # the same note as escaped HTML


class SignatureError(Exception):
    """A delivery that does not prove it comes from the helpdesk. `code` is one of:
    signature_missing, signature_invalid, timestamp_stale, secret_invalid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PayloadError(Exception):
    """A verified delivery that cannot be read. `code` is stable, e.g. payload_invalid."""

    def __init__(self, message: str, code: str = "payload_invalid") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Adapter(Protocol):
    provider: str  # the URL segment: /v1/hooks/{provider}/{integration_id}
    title: str  # the helpdesk's name as its admins know it
    credential_fields: tuple[CredentialField, ...]
    # who makes the webhook secret: "vendor" (the admin pastes the helpdesk's) or "deskguard"
    signing_key_from: Literal["vendor", "deskguard"]
    option_names: tuple[str, ...]  # integration options beyond ip_allowlist and custom_field

    def base_url(self, credentials: Mapping[str, str]) -> str:
        """The API base URL implied by the credentials (e.g. a Zendesk subdomain); "" if none."""
        ...

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        """Raise SignatureError unless the delivery is signed as the vendor documents (hmac.compare_digest)."""
        ...

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        """The vendor's delivery or event id, used for idempotency ("" when the vendor sends none)."""
        ...

    def challenge(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        """For a verified URL-validation request, the value the helpdesk expects echoed back; else ""."""
        ...

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        """The vendor payload as a normalized ticket; PayloadError when it cannot be read."""
        ...

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        """An API client for the helpdesk, authenticated as the vendor documents (may fetch a token)."""
        ...

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        """Fetch what a thin event leaves out (the requester's email and phone); most return `parsed`."""
        ...

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        """Write the private note (unless one with `note.marker` exists), then tags, then the field.
        Every call must be safe to repeat: the outbox retries after failures and crashes."""
        ...

    def check(self, api: HelpdeskAPI) -> str:
        """One read-only call proving the credentials work; returns who they authenticate as."""
        ...

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        """A delivery of `ticket` as this helpdesk would send it, signed with the integration's secret."""
        ...

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        """The exact steps an admin takes in the helpdesk's admin screens."""
        ...
