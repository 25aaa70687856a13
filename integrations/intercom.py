"""Intercom: conversation webhooks in, an admin note, tags and a conversation data attribute out.

Webhook signature (vendor documentation; see the URLs below)
    Header ``X-Hub-Signature: sha1=<signature>``, where ``<signature>`` is the lowercase hexadecimal
    (40 characters) HMAC-SHA1 (RFC 2104) of the raw request body, keyed with the app's
    ``client_secret`` (Developer Hub > your app > Basic information > Client secret). The whole body
    is signed exactly as sent; there is no timestamp header and no signed timestamp, so no replay
    window can be checked (replays are absorbed by the delivery id below). Intercom makes the secret:
    the admin pastes it into Deskguard (``signing_key_from = "vendor"``).

Delivery id
    The notification's own ``id`` field (e.g. ``notif_78c122d0-...``), which Intercom keeps across its
    retries of the same notification (``delivery_attempts`` counts them). Only when a body has no
    string ``id`` does Deskguard fall back to the SHA-256 of the body (``integrations.base.body_digest``).

Payload
    ``{"type": "notification_event", "topic": ..., "id": ..., "app_id": ..., "data": {"type":
    "notification_event_data", "item": <conversation>}, ...}``. Deskguard subscribes to the topics
    ``conversation.user.created`` and ``conversation.user.replied``; every other topic (``ping`` when
    the webhook is saved, ``conversation.admin.*`` replies and notes, tag topics, ...) is ignored.
    The conversation is read in both shapes Intercom sends, depending on the app's webhook API version:
    2.x (``source`` with ``author``, ``contacts.contacts[]``, ``conversation_parts``, ``tags.tags[]``)
    and 1.x (``conversation_message``, ``user``). Parts whose author is a ``user``/``lead``/``contact``
    are the requester's; ``admin``/``team`` parts are agent replies, or private notes when
    ``part_type`` is ``note``; ``bot`` parts are skipped. Bodies are HTML up to API 2.14 and plain
    text in webhooks for 2.15+; both go through ``html_to_text``. A delivery is ignored when its
    latest part is an admin reply or note (Deskguard's own note carries its marker). A requester
    message that merely quotes the marker is still assessed: the requester's text is attacker-controlled.
    Channel from ``source.type``: conversation/push -> chat, email -> email, phone_call/phone_switch/sms ->
    phone, facebook/instagram/twitter/whatsapp -> social. Intercom does not state in the payload
    whether the contact was verified, so ``authenticated`` is always False. 2.x payloads carry only
    the contact's id; ``complete()`` reads its email and phone with ``GET /contacts/{id}``.

REST API (bearer access token, ``Intercom-Version: 2.11``)
    Base ``https://api.intercom.io``; EU and Australian workspaces use ``https://api.eu.intercom.io``
    and ``https://api.au.intercom.io`` (credential ``region``: us, eu or au).

    - ``GET /conversations/{id}``: the conversation with its 500 most recent parts (the API's hard
      limit; one bounded read, no paging) and its tags; the marker is looked for in the parts.
    - ``POST /conversations/{id}/reply`` ``{"message_type": "note", "type": "admin", "admin_id",
      "body": <html>}``: the private note (notes accept some HTML).
    - ``POST /tags`` ``{"name"}``: finds or creates a tag by name (names are case-insensitive; the same
      name twice gives one tag) and returns its id; ``POST /conversations/{id}/tags`` ``{"id",
      "admin_id"}`` attaches it; ``DELETE /conversations/{id}/tags/{tag_id}`` ``{"admin_id"}`` detaches
      a stale level tag (only tags the conversation has; a 404 there counts as already removed).
    - ``PUT /conversations/{id}`` ``{"custom_attributes": {<name>: <level>}}``: the conversation data
      attribute named by the ``custom_field`` option.
    - ``GET /contacts/{id}``: the requester's email and phone; ``GET /me``: the credential check.
    Errors come as ``{"type": "error.list", "errors": [{"code", "message"}]}``; 401 ``unauthorized``
    ("Access Token Invalid") is not retried.

Documentation used
    - https://developers.intercom.com/docs/webhooks/setting-up-webhooks
    - https://developers.intercom.com/docs/webhooks/webhook-notifications
    - https://developers.intercom.com/intercom-api-reference/v1.0/reference/signed-notifications
    - https://developers.intercom.com/docs/references/2.11/webhooks/webhook-models
    - https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/conversations/replyconversation
    - https://developers.intercom.com/docs/references/2.17/rest-api/api.intercom.io/conversations/retrieveconversation
    - https://developers.intercom.com/docs/references/2.16/rest-api/api.intercom.io/conversations/updateconversation
    - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/Tags/attachTagToConversation/
    - https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/tags/detachtagfromconversation
    - https://developers.intercom.com/docs/references/1.1/rest-api/tags/create-and-update-tags
    - https://developers.intercom.com/docs/references/2.15/rest-api/api.intercom.io/admins/identifyadmin
    - https://developers.intercom.com/docs/references/2.15/rest-api/api.intercom.io/models/conversation_source
    - https://github.com/intercom/Intercom-OpenAPI (descriptions/2.11/api.intercom.io.yaml: examples, errors)
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, MAX_MESSAGES, Message, Requester, Ticket
from app.core.vocabulary import Channel
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import dig, html_to_text, is_deskguard_note, list_at, object_at, tags_of, text_at
from integrations.protocol import CredentialField, InboundRequest, IntegrationConfig, Note, Parsed, PayloadError
from integrations.signing import check_signature, hmac_hex, require_header, require_secret

SIGNATURE_HEADER = "X-Hub-Signature"
SIGNATURE_PREFIX = "sha1="
API_VERSION = "2.11"
REGION_HOSTS = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}
TOPICS = frozenset({"conversation.user.created", "conversation.user.replied"})
CONTACT_AUTHORS = frozenset({"user", "lead", "contact"})
AGENT_AUTHORS = frozenset({"admin", "team"})
CHANNELS: dict[str, Channel] = {
    "conversation": "chat",
    "push": "chat",
    "email": "email",
    "phone_call": "phone",
    "phone_switch": "phone",
    "sms": "phone",
    "facebook": "social",
    "instagram": "social",
    "twitter": "social",
    "whatsapp": "social",
}
SOURCE_TYPES = {"chat": "conversation", "email": "email", "phone": "phone_call", "social": "facebook"}
MAX_PARTS = 500  # the API's own limit on conversation parts in one conversation object
MAX_ID_CHARS = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Part:
    """One message-bearing piece of a conversation: its source or one conversation part."""

    kind: str  # requester | agent | note | bot | other
    body: str
    created_at: datetime | None
    author: Mapping[str, Any]


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Intercom sends for `body`."""
    return SIGNATURE_PREFIX + hmac_hex(secret, body, "sha1")


def sample_contact_id(ticket: Ticket) -> str:
    """The Intercom contact id `sample()` gives the requester of `ticket` (test fakes use the same)."""
    if ticket.requester.external_id:
        return ticket.requester.external_id[:MAX_ID_CHARS]
    return "contact-" + hashlib.sha256(ticket.ticket_id.encode()).hexdigest()[:24]


def _segment(value: str) -> str:
    """One URL path segment: ids from payloads never add path components."""
    return quote(value, safe="")


def _unix(value: str, where: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise PayloadError(f"`{where}` is not a unix timestamp") from None


def _part(raw: Mapping[str, Any], part_type: str, created: str, where: str) -> _Part:
    author = object_at(raw, "author")
    author_type = text_at(author, "type").lower()
    body = html_to_text(text_at(raw, "body"))[:MAX_BODY_CHARS]
    if author_type in AGENT_AUTHORS:
        kind = "note" if part_type == "note" else "agent"
    elif author_type in CONTACT_AUTHORS:
        kind = "requester"
    elif author_type == "bot":
        kind = "bot"
    else:
        kind = "other"
    return _Part(kind=kind, body=body, created_at=_unix(created, where), author=author)


def _parts(item: Mapping[str, Any]) -> list[_Part]:
    """The conversation's source message, then its parts, in the order Intercom lists them."""
    parts: list[_Part] = []
    source = object_at(item, "source") or object_at(item, "conversation_message")
    if source:
        parts.append(_part(source, "comment", text_at(item, "created_at"), "created_at"))
    for index, raw in enumerate(list_at(item, "conversation_parts.conversation_parts")[-MAX_PARTS:]):
        if not isinstance(raw, Mapping):
            raise PayloadError(f"`conversation_parts.conversation_parts.{index}` should be an object")
        where = f"conversation_parts.conversation_parts.{index}.created_at"
        parts.append(_part(raw, text_at(raw, "part_type"), text_at(raw, "created_at"), where))
    return parts


def _contacts(item: Mapping[str, Any]) -> list[Any]:
    """`contacts` as 2.x sends it ({"contacts": [...]}) or as older 2.x docs show it (a bare list)."""
    value = item.get("contacts")
    return list_at(item, "contacts") if isinstance(value, list) else list_at(item, "contacts.contacts")


def _requester(item: Mapping[str, Any], parts: list[_Part]) -> Requester:
    """Who wrote in: the latest requester part's author, the 2.x contact, or the 1.x `user`."""
    contacts = _contacts(item)
    contact = contacts[0] if contacts else {}
    if not isinstance(contact, Mapping):
        raise PayloadError("`contacts.contacts.0` should be an object")
    user = object_at(item, "user")
    authors = [p.author for p in reversed(parts) if p.kind == "requester"]
    candidates: list[Mapping[str, Any]] = [*authors, user]
    email = next((e for c in candidates if (e := text_at(c, "email"))), "")
    name = next((n for c in candidates if (n := text_at(c, "name"))), "")
    external_id = text_at(contact, "id") or text_at(user, "id") or next((text_at(a, "id") for a in authors), "")
    return Requester(external_id=external_id[:MAX_ID_CHARS], name=name[:300], email=email[:320])


def _ignored_latest(latest: _Part) -> str:
    if is_deskguard_note(latest.body):
        return "the latest part is Deskguard's own note"
    if latest.kind == "note":
        return "the latest part is an admin's private note"
    return "the latest part is an admin's reply"


def _messages(parts: list[_Part]) -> list[Message]:
    kept = [p for p in parts if p.body and p.kind in ("requester", "agent")]
    return [
        Message(author="requester" if p.kind == "requester" else "agent", body=p.body, created_at=p.created_at)
        for p in kept[-MAX_MESSAGES:]
    ]


def _render(text: str) -> str:
    """A message body as Intercom's webhooks carry it: plain text (API 2.15+), or HTML when needed."""
    if "<" not in text and "&" not in text:
        return text
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))


def _checked(read: Callable[[], T], what: str) -> T:
    """`read()` of an API response; a malformed response is a permanent write-back error."""
    try:
        return read()
    except PayloadError as exc:
        raise WriteBackError(f"{what}: unexpected response ({exc.message})", retryable=False) from None


class IntercomAdapter(AdapterBase):
    provider = "intercom"
    title = "Intercom"
    credential_fields = (
        CredentialField(
            "access_token", "the app's access token (Developer Hub > your app > Configure > Authentication)"
        ),
        CredentialField("admin_id", "the id of the teammate (admin) the notes and tags are written as", secret=False),
        CredentialField(
            "region", "where the workspace is hosted: us (default), eu or au", required=False, secret=False
        ),
    )
    signing_key_from = "vendor"

    # --- webhooks -------------------------------------------------------------------------------

    def base_url(self, credentials: Mapping[str, str]) -> str:
        return REGION_HOSTS.get((credentials.get("region") or "us").strip().lower(), "")

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        prefix, _, digest = given.partition("=")
        candidate = f"{prefix.strip().lower()}={digest.strip().lower()}"
        check_signature(sign(secret, request.body), candidate, f"{SIGNATURE_HEADER} signature")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        given = payload.get("id")
        if isinstance(given, str) and given.strip():
            return given.strip()[:MAX_ID_CHARS]
        return body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        topic = text_at(payload, "topic", required=True)
        if topic not in TOPICS:  # e.g. `ping`, whose item has no id
            return Parsed(_item_id(payload), None, ignored=f"topic {topic[:80]} is not new requester text")
        item = object_at(payload, "data.item", required=True)
        ref = text_at(item, "id", required=True)[:MAX_ID_CHARS]
        if text_at(item, "type", required=True) != "conversation":
            raise PayloadError("`data.item.type` should be conversation")
        parts = _parts(item)
        spoken = [p for p in parts if p.body and p.kind in ("requester", "agent", "note")]
        if not any(p.kind == "requester" for p in spoken):
            return Parsed(ref, None, ignored="the conversation has no text from the requester")
        if spoken[-1].kind != "requester":
            return Parsed(ref, None, ignored=_ignored_latest(spoken[-1]))
        requester = _requester(item, parts)
        source = object_at(item, "source") or object_at(item, "conversation_message")
        subject = html_to_text(text_at(source, "subject") or text_at(item, "title"))[:2_000]
        try:
            ticket = Ticket(
                ticket_id=ref,
                channel=CHANNELS.get(text_at(source, "type"), "chat"),
                subject=subject,
                messages=_messages(parts),
                requester=requester,
                tags=tags_of([text_at(t, "name") for t in list_at(item, "tags.tags") if isinstance(t, Mapping)]),
            )
        except ValidationError as exc:
            raise PayloadError(f"the conversation cannot be read: {exc.errors()[0]['msg']}") from None
        lookup = {"contact_id": requester.external_id} if requester.external_id else {}
        return Parsed(ref, ticket, lookup=lookup)

    # --- the API ----------------------------------------------------------------------------------

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        token = integration.credentials.get("access_token", "")
        if not token:
            raise WriteBackError("the Intercom access token is not set", retryable=False)
        headers = {"Authorization": f"Bearer {token}", "Intercom-Version": API_VERSION, "Accept": "application/json"}
        return HelpdeskAPI(integration.api_base_url, http, headers=headers)

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        """Fill the requester's email and phone from the contact when the notification lacks them."""
        ticket = parsed.ticket
        contact_id = parsed.lookup.get("contact_id", "")
        if ticket is None or not contact_id or (ticket.requester.email and ticket.requester.phone):
            return parsed
        try:
            contact = api.json("GET", f"/contacts/{_segment(contact_id)}")
        except WriteBackError as exc:
            if exc.status == 404:  # the contact was merged or deleted: keep what the payload says
                return parsed
            raise
        try:
            found = Requester(
                external_id=ticket.requester.external_id,
                name=ticket.requester.name or text_at(contact, "name")[:300],
                email=ticket.requester.email or text_at(contact, "email")[:320],
                phone=ticket.requester.phone or text_at(contact, "phone")[:64],
            )
        except (PayloadError, ValidationError):
            return parsed
        return Parsed(parsed.ref, ticket.model_copy(update={"requester": found}), lookup=parsed.lookup)

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        admin_id = integration.credentials.get("admin_id", "").strip()
        if not admin_id:
            raise WriteBackError("the Intercom admin_id credential is not set", retryable=False)
        path = f"/conversations/{_segment(ref)}"
        conversation = api.json("GET", path)
        if not _has_marker(conversation, note.marker):
            body = {"message_type": "note", "type": "admin", "admin_id": admin_id, "body": note.html}
            api.request("POST", f"{path}/reply", json=body)
        self._tag(api, path, conversation, note, admin_id)
        field = str(integration.options.get("custom_field") or "").strip()
        if field:
            current = conversation.get("custom_attributes") if isinstance(conversation, Mapping) else None
            if not (isinstance(current, Mapping) and current.get(field) == note.level):
                api.request("PUT", path, json={"custom_attributes": {field: note.level}})

    def _tag(self, api: HelpdeskAPI, path: str, conversation: Any, note: Note, admin_id: str) -> None:
        """Attach the note's tags the conversation lacks, detach its stale level tags."""
        applied = _checked(lambda: _applied_tags(conversation), "GET conversation tags")
        for name in note.tags:
            if name.lower() in applied:
                continue
            tag_id = _created_tag_id(api.json("POST", "/tags", json={"name": name}))
            api.request("POST", f"{path}/tags", json={"id": tag_id, "admin_id": admin_id})
        for name in note.stale_tags:
            tag_id = applied.get(name.lower(), "")
            if tag_id:
                api.request(
                    "DELETE", f"{path}/tags/{_segment(tag_id)}", json={"admin_id": admin_id}, ok_statuses=(404,)
                )

    def check(self, api: HelpdeskAPI) -> str:
        me = api.json("GET", "/me")
        admin = _checked(lambda: text_at(me, "id", required=True), "GET /me")
        return f"authenticated as admin {admin}"

    # --- samples and setup ------------------------------------------------------------------------

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        body = json.dumps(_notification(ticket, int(now)), separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "intercom-parrot-service-client/1.0",
            SIGNATURE_HEADER.lower(): sign(integration.secret, body),
        }
        return InboundRequest(body=body, headers=headers)

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            "Open the Intercom Developer Hub (https://app.intercom.com/a/apps/_/developer-hub) > New app "
            "(or open the app Deskguard will use)",
            "Configure > Authentication: copy the Access token into Deskguard as credential access_token",
            "Basic information: copy the Client secret and store it with "
            f"`deskguard integrations secret {integration.id} --secret <client secret>`",
            f"Configure > Webhooks: endpoint URL {webhook_url}; API version {API_VERSION} or later where offered; "
            "topics conversation.user.created and conversation.user.replied; Save",
            "Credential admin_id: the id of the teammate notes are written as (GET /me or the teammate's profile "
            "URL); EU or Australian workspaces also need credential region=eu or region=au",
            "Optional: Settings > Data > Conversations: create a Text attribute (e.g. deskguard_risk) and install "
            "with --option custom_field=<its name>",
        ]


def _item_id(payload: Mapping[str, Any]) -> str:
    """The notification item's id where it has one (ignored topics need not have any)."""
    value = dig(payload, "data.item.id")
    return str(value)[:MAX_ID_CHARS] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _applied_tags(conversation: Any) -> dict[str, str]:
    """Tag name (lower case) -> tag id, for the tags on a conversation object."""
    found: dict[str, str] = {}
    for index, tag in enumerate(list_at(conversation, "tags.tags")):
        if not isinstance(tag, Mapping):
            raise PayloadError(f"`tags.tags.{index}` should be an object")
        found[text_at(tag, "name").lower()] = text_at(tag, "id")
    return found


def _has_marker(conversation: Any, marker: str) -> bool:
    """Whether one of the conversation's parts (the API returns at most the 500 most recent) has the marker."""
    parts = conversation.get("conversation_parts") if isinstance(conversation, Mapping) else None
    listed = parts.get("conversation_parts") if isinstance(parts, Mapping) else None
    for part in listed[-MAX_PARTS:] if isinstance(listed, list) else []:
        body = part.get("body") if isinstance(part, Mapping) else None
        if isinstance(body, str) and (marker in body or marker in html_to_text(body)):
            return True
    return False


def _created_tag_id(created: Any) -> str:
    return _checked(lambda: text_at(created, "id", required=True), "POST /tags")


def _sample_part(message: Message, index: int, created: int, contact: Mapping[str, str]) -> dict[str, Any]:
    author: dict[str, Any]
    if message.author == "requester":
        author = {"type": "user", **contact}
    elif message.author == "agent":
        author = {"type": "admin", "id": "1", "name": "Support", "email": ""}
    else:
        author = {"type": "bot", "id": "2", "name": "Operator", "email": ""}
    return {
        "type": "conversation_part",
        "id": str(index),
        "part_type": "comment",
        "body": _render(message.body),
        "created_at": created,
        "updated_at": created,
        "notified_at": created,
        "assigned_to": None,
        "author": author,
        "attachments": [],
        "external_id": None,
        "redacted": False,
    }


def _notification(ticket: Ticket, now: int) -> dict[str, Any]:
    """The 2.x `notification_event` Intercom would send for `ticket`."""
    contact_id = sample_contact_id(ticket)
    contact = {"id": contact_id, "name": ticket.requester.name, "email": ticket.requester.email}
    messages = ticket.messages or [Message(author="requester", body="")]
    parts = [
        _sample_part(m, i, int(m.created_at.timestamp()) if m.created_at else now, contact)
        for i, m in enumerate(messages, start=1)
    ]
    first = parts[0]
    source = {
        "type": SOURCE_TYPES.get(ticket.channel, "conversation"),
        "id": "1",
        "delivered_as": "customer_initiated" if messages[0].author == "requester" else "admin_initiated",
        "subject": _render(ticket.subject),
        "body": first["body"],
        "author": first["author"],
        "attachments": [],
        "url": None,
        "redacted": False,
    }
    item = {
        "type": "conversation",
        "id": ticket.ticket_id,
        "created_at": first["created_at"],
        "updated_at": now,
        "title": ticket.subject or None,
        "source": source,
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact_id, "external_id": None}]},
        "open": True,
        "state": "open",
        "read": False,
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": str(i), "name": t} for i, t in enumerate(ticket.tags)],
        },
        "custom_attributes": {},
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": parts[1:],
            "total_count": len(parts) - 1,
        },
    }
    topic = "conversation.user.created" if len(parts) == 1 else "conversation.user.replied"
    return {
        "type": "notification_event",
        "app_id": "deskguard-sample",
        "data": {"type": "notification_event_data", "item": item},
        "links": {},
        "id": f"notif_{uuid.uuid4()}",
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": now,
        "created_at": now,
        "self": None,
    }


ADAPTER = IntercomAdapter()
