"""Help Scout (Inbox / Mailbox API 2.0): conversation webhooks in, a note, tags and a custom field out.

Webhook signature (vendor documentation; see the URLs below)
    Header ``X-HelpScout-Signature: <signature>``, where ``<signature>`` is the standard base64 of the
    binary HMAC-SHA1 of the raw request body (the JSON exactly as sent), keyed with the webhook's
    "Secret Key" (the PHP reference: ``base64_encode(hash_hmac('sha1', $data, SECRET, true))``). The
    secret is "a randomly-generated (by you) string of 40 characters or less" typed into the webhook
    form, so Deskguard makes it and the admin pastes it into Help Scout (``signing_key_from =
    "deskguard"``); the secrets Deskguard generates are 40 characters. No timestamp is sent or signed,
    so no replay window can be checked.
    ``X-HelpScout-Event`` names the event (``convo.created``, ``convo.customer.reply.created``, ...).

Delivery id
    Help Scout documents no delivery or event id (only the two headers above), so the idempotency key
    is the SHA-256 of the event name and the raw body (``integrations.base.body_digest``): a retried
    delivery has the same bytes, and two events about one unchanged conversation stay distinct.

Payload
    The v2 Conversation object (the only payload version; ``payloadVersion`` V2): ``id``, ``type``
    (email, chat, phone), ``subject``, ``source.type``/``source.via``, ``createdBy``,
    ``primaryCustomer``, ``tags[] {id, tag, color}``, ``customFields[] {id, name, value, text}`` and
    ``_embedded.threads[]``. Threads: ``customer`` (the customer's message), ``chat`` (the customer's
    when ``createdBy.type`` is customer), ``message`` and ``phone`` (agents), ``note`` (private notes);
    line items, forwards and drafts are skipped; bodies are HTML and go through ``html_to_text``.
    ``parse()`` does not see headers, so a delivery is judged by its newest thread: a note (e.g.
    Deskguard's own, with its marker) or an agent's reply is ignored, which covers
    ``convo.note.created`` and ``convo.agent.reply.created``; subscribe only to ``convo.created`` and
    ``convo.customer.reply.created``. A customer message that merely quotes the marker is still
    assessed (the customer's text is attacker-controlled). When the body carries no threads, or no
    customer email, ``complete()`` reads them from the API. Channel: type chat -> chat, phone -> phone,
    email -> email, except ``source.type`` api/coreapi -> api and beacon/web/mobile/docs -> web.
    Help Scout does not state that a customer was verified, so ``authenticated`` is always False.

REST API (OAuth2 client credentials; base ``https://api.helpscout.net``)
    - ``POST /v2/oauth2/token`` JSON ``{"grant_type": "client_credentials", "client_id": <App ID>,
      "client_secret": <App Secret>}`` -> ``{"access_token", "token_type": "bearer", "expires_in"}``;
      ``connect()`` fetches a token and sends ``Authorization: Bearer <token>``. A wrong App ID/Secret
      is refused (``{"error": "invalid_client"}``) and not retried.
    - ``GET /v2/conversations/{id}/threads?page=N``: threads newest first, 50 a page (a conversation has
      at most 100 threads); Deskguard reads at most 5 pages looking for the marker.
    - ``POST /v2/conversations/{id}/notes`` ``{"text": <html>}`` -> 201 with ``Resource-ID`` (the
      reference calls the field "the note text"; thread bodies are HTML, so the note's HTML is sent).
    - ``GET /v2/conversations/{id}``: the current ``tags`` and ``customFields``.
    - ``PUT /v2/conversations/{id}/tags`` ``{"tags": [...]}``: replaces the whole tag list (unknown tags
      are created), so Deskguard sends the current tags minus stale level tags plus its own, and only
      when that differs.
    - ``PUT /v2/conversations/{id}/fields`` ``{"fields": [{"id", "value"}]}``: replaces every custom field
      of the conversation, so Deskguard sends the existing values with its own field set to the level
      (option ``custom_field`` = the numeric field id; use a single-line text field).
    - ``GET /v2/customers/{id}``: the customer's emails and phones when the payload has no email.
    - ``GET /v2/users/me``: the credential check.
    Rate limits answer 429 with ``X-RateLimit-Retry-After`` (seconds), honoured as the retry delay.

Documentation used
    - https://developer.helpscout.com/webhooks/
    - https://developer.helpscout.com/mailbox-api/endpoints/webhooks/create/
    - https://developer.helpscout.com/mailbox-api/overview/authentication/
    - https://developer.helpscout.com/mailbox-api/overview/rate-limiting/
    - https://developer.helpscout.com/mailbox-api/overview/pagination/
    - https://developer.helpscout.com/mailbox-api/endpoints/conversations/get-v3/ (v2 has the same shape)
    - https://developer.helpscout.com/webhooks/objects/conversation/
    - https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/list-v3/ (v2 has the same shape)
    - https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/note/
    - https://developer.helpscout.com/mailbox-api/endpoints/conversations/tags/update/
    - https://developer.helpscout.com/mailbox-api/endpoints/conversations/custom_fields/update/
    - https://developer.helpscout.com/mailbox-api/endpoints/customers/get/ (emails/phones as ``_embedded``)
    - https://developer.helpscout.com/mailbox-api/endpoints/users/list/ (the User object of ``/v2/users/me``)
    - https://github.com/helpscout/helpscout-api-php (src/Http/Authenticator.php, Auth/ClientCredentials.php)
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, MAX_MESSAGES, Message, Requester, Ticket
from app.core.vocabulary import Channel
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import html_to_text, is_deskguard_note, list_at, object_at, tags_of, text_at
from integrations.protocol import CredentialField, InboundRequest, IntegrationConfig, Note, Parsed, PayloadError
from integrations.signing import check_signature, hmac_base64, require_header, require_secret

SIGNATURE_HEADER = "X-HelpScout-Signature"
EVENT_HEADER = "X-HelpScout-Event"
API_BASE = "https://api.helpscout.net"
GRANT_PATH = "/v2/oauth2/token"
MAX_THREAD_PAGES = 5  # 50 threads a page; Help Scout caps a conversation at 100 threads
MAX_ID_CHARS = 200
REQUESTER_TYPES = frozenset({"customer"})
AGENT_TYPES = frozenset({"message", "phone"})
SKIPPED_STATES = frozenset({"draft", "underreview"})
TYPE_CHANNELS: dict[str, Channel] = {"chat": "chat", "phone": "phone", "email": "email"}
SOURCE_CHANNELS: dict[str, Channel] = {
    "api": "api",
    "coreapi": "api",
    "beacon": "web",
    "web": "web",
    "mobile": "web",
    "docs": "web",
}
SAMPLE_TYPES = {"chat": "chat", "phone": "phone"}
SAMPLE_SOURCES = {"api": "api", "web": "beacon", "chat": "chat", "phone": "phone"}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Thread:
    """One thread of a conversation, classified."""

    kind: str  # requester | agent | note | other
    body: str
    created_at: datetime | None
    order: int  # the thread id where numeric, else the position: ties in createdAt keep Help Scout's order
    person: Mapping[str, Any]  # the customer the thread belongs to, where it names one


def sign(secret: str, body: bytes) -> str:
    """The X-HelpScout-Signature value Help Scout sends for `body`."""
    return hmac_base64(secret, body, "sha1")


def _segment(value: str) -> str:
    """One URL path segment: ids from payloads never add path components."""
    return quote(value, safe="")


def _iso(value: str, where: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(f"`{where}` is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _thread(raw: Any, index: int) -> _Thread:
    if not isinstance(raw, Mapping):
        raise PayloadError(f"`_embedded.threads.{index}` should be an object")
    kind_of = text_at(raw, "type").lower()
    created_by = object_at(raw, "createdBy")
    by_customer = text_at(created_by, "type").lower() == "customer"
    if text_at(raw, "state").lower() in SKIPPED_STATES:
        kind = "other"
    elif kind_of in REQUESTER_TYPES or (kind_of == "chat" and by_customer):
        kind = "requester"
    elif kind_of in AGENT_TYPES or kind_of == "chat":
        kind = "agent"
    elif kind_of == "note":
        kind = "note"
    else:
        kind = "other"
    identifier = text_at(raw, "id")
    person = object_at(raw, "customer") or (created_by if by_customer else {})
    return _Thread(
        kind=kind,
        body=html_to_text(text_at(raw, "body"))[:MAX_BODY_CHARS],
        created_at=_iso(text_at(raw, "createdAt"), f"_embedded.threads.{index}.createdAt"),
        order=int(identifier) if identifier.isdigit() else index,
        person=person,
    )


def _threads(raw: list[Any]) -> list[_Thread]:
    """Threads oldest first (Help Scout lists them newest first)."""
    threads = [_thread(item, i) for i, item in enumerate(raw[: MAX_THREAD_PAGES * 50])]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(threads, key=lambda t: (t.created_at or epoch, t.order))


def _name(person: Mapping[str, Any]) -> str:
    first = text_at(person, "first") or text_at(person, "firstName")
    last = text_at(person, "last") or text_at(person, "lastName")
    return " ".join(part for part in (first, last) if part)


def _requester(conversation: Mapping[str, Any], threads: list[_Thread]) -> Requester:
    """The primary customer, filled in from the newest customer thread and the conversation's creator."""
    primary = object_at(conversation, "primaryCustomer")
    created_by = object_at(conversation, "createdBy")
    creator = created_by if text_at(created_by, "type").lower() == "customer" else {}
    people: list[Mapping[str, Any]] = [primary, *(t.person for t in reversed(threads) if t.kind == "requester")]
    people.append(creator)
    email = next((e for p in people if (e := text_at(p, "email"))), "")
    name = next((n for p in people if (n := _name(p))), "")
    external_id = text_at(primary, "id") or next((i for p in people if (i := text_at(p, "id"))), "")
    return Requester(external_id=external_id[:MAX_ID_CHARS], name=name[:300], email=email[:320])


def _channel(conversation: Mapping[str, Any]) -> Channel:
    kind = text_at(conversation, "type").lower()
    source = text_at(conversation, "source.type").lower()
    if kind == "email" and source in SOURCE_CHANNELS:
        return SOURCE_CHANNELS[source]
    return TYPE_CHANNELS.get(kind, "email")


def _verdict(threads: list[_Thread]) -> str:
    """Why a conversation is not to be assessed, from its newest message-bearing thread ("" = assess)."""
    spoken = [t for t in threads if t.body and t.kind in ("requester", "agent", "note")]
    if not any(t.kind == "requester" for t in spoken):
        return "the conversation has no text from the customer"
    latest = spoken[-1]
    if latest.kind == "requester":
        return ""
    if is_deskguard_note(latest.body):
        return "the newest thread is Deskguard's own note"
    return "the newest thread is a private note" if latest.kind == "note" else "the newest thread is an agent's reply"


def _messages(threads: list[_Thread]) -> list[Message]:
    kept = [t for t in threads if t.body and t.kind in ("requester", "agent")]
    return [
        Message(author="requester" if t.kind == "requester" else "agent", body=t.body, created_at=t.created_at)
        for t in kept[-MAX_MESSAGES:]
    ]


def _render(text: str) -> str:
    """A thread body as Help Scout stores it: HTML (plain text when it has nothing to escape)."""
    if "<" not in text and "&" not in text:
        return text
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def _checked(read: Callable[[], T], what: str) -> T:
    """`read()` of an API response; a malformed response is a permanent write-back error."""
    try:
        return read()
    except PayloadError as exc:
        raise WriteBackError(f"{what}: unexpected response ({exc.message})", retryable=False) from None


# Help Scout says how long to wait in X-RateLimit-Retry-After (https://developer.helpscout.com/mailbox-api/overview/rate-limiting/)
RETRY_AFTER_HEADERS = ("x-ratelimit-retry-after", "retry-after")


class HelpScoutAdapter(AdapterBase):
    provider = "helpscout"
    title = "Help Scout"
    credential_fields = (
        CredentialField("app_id", "the App ID of the OAuth2 app (Your Profile > My Apps)", secret=False),
        CredentialField("app_secret", "the App Secret of the same app"),
    )
    signing_key_from = "deskguard"

    # --- webhooks -------------------------------------------------------------------------------

    def base_url(self, credentials: Mapping[str, str]) -> str:
        return API_BASE

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        check_signature(sign(secret, request.body), given, f"{SIGNATURE_HEADER} signature")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        event = request.headers.get(EVENT_HEADER.lower(), "").strip()[:100]
        return body_digest(event.encode() + b"\n" + request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        ref = text_at(payload, "id", required=True)[:MAX_ID_CHARS]
        embedded = object_at(payload, "_embedded")
        threads = _threads(list_at(embedded, "threads"))
        if threads:
            ignored = _verdict(threads)
            if ignored:
                return Parsed(ref, None, ignored=ignored)
        ticket = _ticket(payload, ref, threads)
        lookup: dict[str, str] = {}
        if not threads:
            lookup["threads"] = "fetch"
        if ticket.requester.external_id:
            lookup["customer_id"] = ticket.requester.external_id
        return Parsed(ref, ticket, lookup=lookup)

    # --- the API ----------------------------------------------------------------------------------

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        app_id = integration.credentials.get("app_id", "")
        app_secret = integration.credentials.get("app_secret", "")
        if not app_id or not app_secret:
            raise WriteBackError("the Help Scout app_id and app_secret credentials are not set", retryable=False)
        plain = HelpdeskAPI(
            integration.api_base_url,
            http,
            headers={"Accept": "application/json"},
            retry_after_headers=RETRY_AFTER_HEADERS,
        )
        grant = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": app_secret}
        answer = plain.json("POST", GRANT_PATH, json=grant)
        token = _checked(lambda: text_at(answer, "access_token", required=True), f"POST {GRANT_PATH}")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return HelpdeskAPI(integration.api_base_url, http, headers=headers, retry_after_headers=RETRY_AFTER_HEADERS)

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        """Read the threads when the body had none, and the customer's email when the body had none."""
        ticket = parsed.ticket
        if ticket is None:
            return parsed
        if parsed.lookup.get("threads") == "fetch":
            try:
                raw = self._read_threads(api, parsed.ref, lambda _: False)
            except WriteBackError as exc:
                if exc.status == 404:  # deleted, or not a conversation (a subscribed non-conversation event)
                    return Parsed(parsed.ref, None, ignored="no conversation with this id in Help Scout")
                raise
            threads = _checked(lambda: _threads(raw), "GET threads")
            ignored = _verdict(threads)
            if ignored:
                return Parsed(parsed.ref, None, ignored=ignored)
            requester = _merge(ticket.requester, _requester({}, threads))
            ticket = ticket.model_copy(update={"messages": _messages(threads), "requester": requester})
        customer_id = parsed.lookup.get("customer_id", "")
        if customer_id and not ticket.requester.email:
            ticket = ticket.model_copy(update={"requester": self._customer(api, customer_id, ticket.requester)})
        return Parsed(parsed.ref, ticket, lookup=parsed.lookup)

    def _customer(self, api: HelpdeskAPI, customer_id: str, requester: Requester) -> Requester:
        try:
            customer = api.json("GET", f"/v2/customers/{_segment(customer_id)}")
        except WriteBackError as exc:
            if exc.status == 404:
                return requester
            raise
        try:
            emails = _values(customer, "emails")
            phones = _values(customer, "phones")
            found = Requester(
                name=_name(customer)[:300],
                email=next((e for e in emails if e), "")[:320],
                phone=next((p for p in phones if p), "")[:64],
            )
        except (PayloadError, ValidationError):
            return requester
        return _merge(requester, found)

    def _read_threads(self, api: HelpdeskAPI, ref: str, stop: Callable[[Mapping[str, Any]], bool]) -> list[Any]:
        """Up to MAX_THREAD_PAGES pages of threads, newest first; stops early once `stop(thread)` holds."""
        found: list[Any] = []
        for page in range(1, MAX_THREAD_PAGES + 1):
            answer = api.json("GET", f"/v2/conversations/{_segment(ref)}/threads", params={"page": page})
            threads, total = _checked(partial(_thread_page, answer), "GET threads")
            found.extend(threads)
            if any(isinstance(t, Mapping) and stop(t) for t in threads) or not threads or page >= total:
                break
        return found

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        path = f"/v2/conversations/{_segment(ref)}"
        threads = self._read_threads(api, ref, lambda t: _carries(t, note.marker))
        if not any(isinstance(t, Mapping) and _carries(t, note.marker) for t in threads):
            api.request("POST", f"{path}/notes", json={"text": note.html})
        conversation = api.json("GET", path)
        self._tag(api, path, conversation, note)
        field = str(integration.options.get("custom_field") or "").strip()
        if field:
            self._set_field(api, path, conversation, field, note.level)

    def _tag(self, api: HelpdeskAPI, path: str, conversation: Any, note: Note) -> None:
        current = _checked(lambda: _tag_names(conversation), "GET conversation")
        stale = {t.lower() for t in note.stale_tags}
        wanted = [t for t in current if t.lower() not in stale]
        wanted += [t for t in note.tags if t.lower() not in {w.lower() for w in wanted}]
        if {t.lower() for t in wanted} != {t.lower() for t in current}:
            api.request("PUT", f"{path}/tags", json={"tags": wanted})

    def _set_field(self, api: HelpdeskAPI, path: str, conversation: Any, field: str, level: str) -> None:
        if not field.isdigit():
            raise WriteBackError("option custom_field must be a Help Scout custom field id (a number)", retryable=False)
        current = _checked(lambda: _field_values(conversation), "GET conversation")
        if current.get(int(field)) == level:
            return
        fields = [{"id": fid, "value": value} for fid, value in current.items() if fid != int(field) and value]
        fields.append({"id": int(field), "value": level})
        api.request("PUT", f"{path}/fields", json={"fields": fields})

    def check(self, api: HelpdeskAPI) -> str:
        me = api.json("GET", "/v2/users/me")
        user = _checked(lambda: text_at(me, "id", required=True), "GET /v2/users/me")
        return f"authenticated as user {user}"

    # --- samples and setup ------------------------------------------------------------------------

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        body = json.dumps(_conversation(ticket, now), separators=(",", ":")).encode()
        event = "convo.created" if len(ticket.messages) <= 1 else "convo.customer.reply.created"
        headers = {
            "content-type": "application/json",
            EVENT_HEADER.lower(): event,
            SIGNATURE_HEADER.lower(): sign(integration.secret, body),
        }
        return InboundRequest(body=body, headers=headers)

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            "In Help Scout open Manage > Apps, choose Webhooks and install it (or Add another webhook)",
            f"Callback URL: {webhook_url}",
            "Secret Key: the secret Deskguard printed when the integration was added "
            "(40 characters, Help Scout's limit)",
            "Events: Conversation > Created and Conversation > Customer Reply only; Payload version V2; Save",
            "API access: Your Profile > My Apps > Create My App (any redirection URL); give Deskguard its App ID "
            "and App Secret as credentials app_id and app_secret; the app acts as you, so you need access to "
            "the inboxes Deskguard writes to",
            "Optional: Manage > Inbox > Custom Fields: add a Single Line field (e.g. Deskguard risk) and install "
            "with --option custom_field=<its numeric id>",
        ]


def _merge(base: Requester, found: Requester) -> Requester:
    """`base` with its empty fields taken from `found`."""
    return Requester(
        external_id=base.external_id or found.external_id,
        name=base.name or found.name,
        email=base.email or found.email,
        phone=base.phone or found.phone,
        authenticated=base.authenticated,
    )


def _ticket(payload: Mapping[str, Any], ref: str, threads: list[_Thread]) -> Ticket:
    try:
        return Ticket(
            ticket_id=ref,
            channel=_channel(payload),
            subject=text_at(payload, "subject")[:2_000],
            messages=_messages(threads),
            requester=_requester(payload, threads),
            tags=tags_of([text_at(t, "tag") for t in list_at(payload, "tags") if isinstance(t, Mapping)]),
        )
    except ValidationError as exc:
        raise PayloadError(f"the conversation cannot be read: {exc.errors()[0]['msg']}") from None


def _values(customer: Any, kind: str) -> list[str]:
    """The `value`s of a customer's emails or phones (embedded, as v2 returns them, or top-level)."""
    entries = list_at(customer, f"_embedded.{kind}") or list_at(customer, kind)
    return [text_at(entry, "value") for entry in entries if isinstance(entry, Mapping)]


def _thread_page(answer: Any) -> tuple[list[Any], int]:
    """One page of List Threads: its threads and the number of pages."""
    total = text_at(answer, "page.totalPages")
    return list_at(answer, "_embedded.threads"), int(total) if total.isdigit() else 1


def _carries(thread: Mapping[str, Any], marker: str) -> bool:
    body = thread.get("body")
    return isinstance(body, str) and (marker in body or marker in html_to_text(body))


def _tag_names(conversation: Any) -> list[str]:
    names: list[str] = []
    for index, tag in enumerate(list_at(conversation, "tags")):
        if not isinstance(tag, Mapping):
            raise PayloadError(f"`tags.{index}` should be an object")
        if name := text_at(tag, "tag"):
            names.append(name)
    return names


def _field_values(conversation: Any) -> dict[int, str]:
    """Custom field id -> its current value (dropdowns: the option id), as Help Scout wants them back."""
    values: dict[int, str] = {}
    for index, field in enumerate(list_at(conversation, "customFields")):
        if not isinstance(field, Mapping):
            raise PayloadError(f"`customFields.{index}` should be an object")
        identifier = text_at(field, "id", required=True)
        if identifier.isdigit():
            values[int(identifier)] = text_at(field, "value")
    return values


def _iso_z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sample_thread(message: Message, number: int, when: str, customer: Mapping[str, Any]) -> dict[str, Any]:
    if message.author == "requester":
        kind, created_by = "customer", {**customer, "type": "customer"}
    else:
        kind, created_by = "message", {"id": 1, "type": "user", "first": "Support", "last": "", "email": ""}
    return {
        "id": number,
        "type": kind,
        "status": "active",
        "state": "published",
        "action": {"type": "default", "associatedEntities": {}},
        "body": _render(message.body),
        "source": {"type": "email", "via": "customer" if kind == "customer" else "user"},
        "customer": dict(customer),
        "createdBy": created_by,
        "to": [],
        "cc": [],
        "bcc": [],
        "createdAt": when,
        "_embedded": {"attachments": []},
    }


def _conversation(ticket: Ticket, now: float) -> dict[str, Any]:
    """The v2 Conversation object Help Scout would send for `ticket`."""
    ref: int | str = int(ticket.ticket_id) if ticket.ticket_id.isdigit() else ticket.ticket_id
    first, _, last = ticket.requester.name.partition(" ")
    external = ticket.requester.external_id
    customer = {
        "id": int(external) if external.isdigit() else external or 1,
        "first": first,
        "last": last,
        "email": ticket.requester.email,
    }
    stamp = _iso_z(datetime.fromtimestamp(now, UTC))
    messages = [m for m in ticket.messages if m.author != "system"]
    threads = [
        _sample_thread(m, i, _iso_z(m.created_at) if m.created_at else stamp, customer)
        for i, m in enumerate(messages, start=1)
    ]
    return {
        "id": ref,
        "number": ref,
        "threads": len(threads),
        "type": SAMPLE_TYPES.get(ticket.channel, "email"),
        "folderId": 1,
        "status": "active",
        "state": "published",
        "subject": ticket.subject,
        "preview": messages[-1].body[:100] if messages else "",
        "mailboxId": 1,
        "createdBy": {**customer, "type": "customer"},
        "createdAt": threads[0]["createdAt"] if threads else stamp,
        "userUpdatedAt": stamp,
        "source": {"type": SAMPLE_SOURCES.get(ticket.channel, "email"), "via": "customer"},
        "tags": [{"id": i, "color": "#929499", "tag": t} for i, t in enumerate(ticket.tags, start=1)],
        "cc": [],
        "bcc": [],
        "primaryCustomer": {**customer, "type": "customer"},
        "customFields": [],
        "_embedded": {"threads": list(reversed(threads))},
    }


ADAPTER = HelpScoutAdapter()
