"""Front (front.com): rule webhooks and application webhooks in, comments, tags and a custom field out.

Webhook signatures (Front generates both secrets; the admin pastes the right one into Deskguard):

* Application webhooks (https://dev.frontapp.com/docs/application-webhooks): headers
  `X-Front-Signature` and `X-Front-Request-Timestamp` (milliseconds since the epoch). The signature is
  base64(HMAC-SHA256(app secret, "<X-Front-Request-Timestamp>:" + raw body)): the timestamp header as
  sent, a colon, then the raw request bytes. The key is the app's secret (Developers > your app >
  Basic information > App secret). Deskguard refuses a timestamp more than 5 minutes from now
  (Front's own recommendation, https://dev.frontapp.com/docs/security-1). Saving the webhook in Front
  first sends a signed `{"type": "sync", "authorization": {"id": "cmp_..."}}` with an
  `X-Front-Challenge` header that must be echoed back: `challenge()` returns it and the webhook
  endpoint answers `{"challenge": "<value>", ...}` without storing anything.
* Rule webhooks (https://dev.frontapp.com/docs/rule-webhooks, https://dev.frontapp.com/docs/webhooks-1):
  header `X-Front-Signature` = base64(HMAC-SHA1(API secret, raw body)), no timestamp, no retries.

The scheme is chosen by the `webhook_kind` option ("app" or "rule"); without it, by whether the
`X-Front-Request-Timestamp` header is present. Pin it to "app" once app webhooks work, so a delivery
cannot fall back to the timestamp-less rule scheme.

Payloads: a rule webhook body is Front's event object (https://dev.frontapp.com/reference/events):
`{"id": "evt_...", "type": "inbound", "emitted_at", "conversation": {...}, "source", "target":
{"_meta": {"type": "message"}, "data": <message>}}`. An application webhook wraps the same event as
`{"type": "inbound_received", "authorization": {"id": "cmp_..."}, "payload": <event>}`. Only inbound
messages are assessed (rule type `inbound`, app type `inbound_received`, message `is_inbound: true`);
outbound replies, comments (Deskguard's own notes), tag and every other event are ignored. A rule
webhook set to "event preview" may omit the message body and sender: `complete()` then reads the
message with GET /messages/{message_id} (https://dev.frontapp.com/reference/get-message).
Delivery id: the event's `id` (`evt_...`), for both kinds; the sync event has none, so the body's
SHA-256 is used.

API (https://dev.frontapp.com/reference, base https://api2.frontapp.com, header
`Authorization: Bearer <API token>`, https://dev.frontapp.com/docs/authentication; 429 carries
Retry-After, https://dev.frontapp.com/docs/rate-limiting):

* comments (internal notes): GET /conversations/{id}/comments (newest first; `_pagination.next`
  followed when present, at most 5 pages and only on the API host) and POST
  /conversations/{id}/comments `{"body": <markdown text>}` (scopes comments:read, comments:write;
  without `author_id` Front posts as the API token's bot, https://dev.frontapp.com/reference/add-comment).
* tags by id: GET /conversations/{id} (its `tags`), GET /tags (`limit`, `page_token`,
  `_pagination.next`, at most 5 pages), POST /company/tags `{"name"}` for a missing tag (POST /tags is
  Front's legacy endpoint), POST and DELETE /conversations/{id}/tags `{"tag_ids": [...]}`
  (scopes tags:read, tags:write, conversations:read, conversations:write).
* custom field: PATCH /conversations/{id} `{"custom_fields": {...}}`; Front erases every field not
  sent, so the current `custom_fields` are read first and sent back whole with the one changed key
  (https://dev.frontapp.com/reference/update-conversation).
* credential check: GET /me (the company the API token belongs to).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, Message, Requester, Ticket
from integrations.base import AdapterBase
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import dig, html_to_text, is_deskguard_note, list_at, object_at, text_at
from integrations.protocol import (
    CredentialField,
    InboundRequest,
    IntegrationConfig,
    Note,
    Parsed,
    PayloadError,
    SignatureError,
)
from integrations.signing import check_signature, check_window, hmac_base64, require_header, require_secret

API_BASE = "https://api2.frontapp.com"
SIGNATURE_HEADER = "X-Front-Signature"
TIMESTAMP_HEADER = "X-Front-Request-Timestamp"
CHALLENGE_HEADER = "X-Front-Challenge"
WEBHOOK_KINDS = ("app", "rule")
MAX_PAGES = 5
TAG_PAGE_LIMIT = 100
APP_INBOUND = "inbound_received"
RULE_INBOUND = "inbound"
PHONE_TYPES = frozenset({"sms", "call", "phone-call", "whatsapp", "yalo_wha"})

# Front message `type` -> Deskguard channel (https://dev.frontapp.com/reference/messages).
CHANNELS: dict[str, str] = {
    "email": "email",
    "front_chat": "chat",
    "intercom": "chat",
    "whatsapp": "chat",
    "yalo_wha": "chat",
    "sms": "phone",
    "call": "phone",
    "phone-call": "phone",
    "facebook": "social",
    "tweet": "social",
    "tweet_dm": "social",
    "googleplay": "social",
    "custom": "api",
}
# Deskguard channel -> the Front message type `sample()` sends.
SAMPLE_TYPES: dict[str, str] = {
    "email": "email",
    "web": "email",
    "chat": "front_chat",
    "phone": "sms",
    "social": "tweet_dm",
    "api": "custom",
}


def sign_app(secret: str, body: bytes, timestamp: str) -> str:
    """Application-webhook signature: base64 HMAC-SHA256 of "<timestamp>:<raw body>"."""
    return hmac_base64(secret, timestamp.encode("ascii") + b":" + body, "sha256")


def sign_rule(secret: str, body: bytes) -> str:
    """Rule-webhook signature: base64 HMAC-SHA1 of the raw body."""
    return hmac_base64(secret, body, "sha1")


def _timestamp(value: Any) -> datetime | None:
    """Front's epoch seconds (with milliseconds) as a datetime; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _is_inbound(message: Mapping[str, Any]) -> bool:
    """False only for a message Front marks `is_inbound: false`; the event type already says inbound."""
    value = message.get("is_inbound")
    if value is not None and not isinstance(value, bool):
        raise PayloadError("`is_inbound` should be true or false")
    return value is not False


def _message_text(message: Mapping[str, Any]) -> str | None:
    """The message's text (Front's plain `text`, else the HTML `body` as text); None when the payload
    carries neither (an event preview), "" when it carries an empty one."""
    text = text_at(message, "text")
    body = text_at(message, "body")
    if text.strip():
        return text.strip()
    if body.strip():
        return html_to_text(body)
    if "text" in message or "body" in message:
        return ""
    return None


def _contact_id(recipient: Mapping[str, Any]) -> str:
    """The contact id at the end of the recipient's contact link (read as text, never fetched)."""
    link = text_at(recipient, "_links.related.contact")
    last = link.rstrip("/").rsplit("/", 1)[-1]
    return last[:200] if last.startswith("crd_") else ""


def _sender(message: Mapping[str, Any], conversation: Mapping[str, Any]) -> Mapping[str, Any]:
    """The recipient with role "from" on the message, else the conversation's main recipient."""
    for item in list_at(message, "recipients"):
        if not isinstance(item, Mapping):
            raise PayloadError("`recipients` should hold objects")
        if text_at(item, "role") == "from":
            return item
    return object_at(conversation, "recipient")


def _requester(sender: Mapping[str, Any], message_type: str) -> Requester:
    handle = text_at(sender, "handle").strip()
    email = handle if "@" in handle else ""
    phone = handle if not email and (message_type in PHONE_TYPES or handle.startswith("+")) else ""
    return Requester(
        external_id=_contact_id(sender),
        name=text_at(sender, "name")[:300],
        email=email[:320],
        phone=phone[:64],
        authenticated=False,  # Front documents no verified-identity flag for contacts
    )


def _tags(conversation: Mapping[str, Any]) -> list[str]:
    names = []
    for item in list_at(conversation, "tags")[:200]:
        if not isinstance(item, Mapping):
            raise PayloadError("`conversation.tags` should hold tag objects")
        name = text_at(item, "name")
        if name:
            names.append(name[:200])
    return names


def _ticket(**fields: Any) -> Ticket:
    try:
        return Ticket(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise PayloadError(f"the conversation cannot be read: {where}: {err['msg']}") from None


def _unwrap(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, str]:
    """The Front event inside a delivery, or None and why it is not assessed."""
    if "authorization" in payload or "payload" in payload:  # application webhook envelope
        kind = text_at(payload, "type", required=True)
        if kind == "sync":
            return None, "Front's webhook validation request (sync)"
        if kind != APP_INBOUND:
            return None, f"event {kind[:60]} is not an inbound message"
        return object_at(payload, "payload", required=True), ""
    kind = text_at(payload, "type", required=True)
    if kind != RULE_INBOUND:
        return None, f"event {kind[:60]} is not an inbound message"
    return payload, ""


class FrontAdapter(AdapterBase):
    provider = "front"
    title = "Front"
    credential_fields = (
        CredentialField(
            "api_token",
            "Front API token (Settings > Developers > API tokens) with comments, conversations, "
            "messages and tags read/write access",
        ),
    )
    signing_key_from = "vendor"
    option_names = ("webhook_kind",)

    def base_url(self, credentials: Mapping[str, str]) -> str:
        return API_BASE

    # --- webhook in -----------------------------------------------------------------------

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        if self._kind(request, integration) == "app":
            timestamp = require_header(request.headers, TIMESTAMP_HEADER)
            if not timestamp.isdigit():
                raise SignatureError("signature_invalid", f"{TIMESTAMP_HEADER} must be epoch milliseconds")
            check_window(timestamp, now)
            check_signature(sign_app(secret, request.body, timestamp), given, SIGNATURE_HEADER)
        else:
            check_signature(sign_rule(secret, request.body), given, SIGNATURE_HEADER)

    @staticmethod
    def _kind(request: InboundRequest, integration: IntegrationConfig) -> str:
        kind = str(integration.options.get("webhook_kind") or "").strip().lower()
        if kind and kind not in WEBHOOK_KINDS:
            raise SignatureError("signature_invalid", "the webhook_kind option must be app or rule")
        if kind:
            return kind
        return "app" if request.headers.get(TIMESTAMP_HEADER.lower(), "").strip() else "rule"

    def challenge(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        """Front validates an application webhook URL with a signed `sync` event whose X-Front-Challenge
        header must be echoed back (https://dev.frontapp.com/docs/application-webhooks)."""
        if payload.get("type") != "sync":
            return ""
        return request.headers.get(CHALLENGE_HEADER.lower(), "").strip()[:500]

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        for path in ("payload.id", "id"):
            value = dig(payload, path)
            if isinstance(value, str) and value.strip():
                return value.strip()[:200]
        return ""  # the sync event: the hook falls back to the body's SHA-256

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        event, why = _unwrap(payload)
        if event is None:
            return Parsed("", None, ignored=why)
        conversation = object_at(event, "conversation", required=True)
        ref = text_at(conversation, "id", required=True)
        target_type = text_at(event, "target._meta.type")
        if target_type and target_type != "message":
            return Parsed(ref, None, ignored=f"the event's target is a {target_type[:40]}, not a message")
        message = object_at(event, "target.data", required=True)
        if not _is_inbound(message):
            return Parsed(ref, None, ignored="an outbound message (a teammate's reply)")
        return self._read_message(ref, conversation, message)

    def _read_message(self, ref: str, conversation: Mapping[str, Any], message: Mapping[str, Any]) -> Parsed:
        message_type = text_at(message, "type")
        if message_type == "internal":
            return Parsed(ref, None, ignored="an internal message")
        text = _message_text(message)
        sender = _sender(message, conversation)
        base = {
            "ticket_id": ref,
            "channel": CHANNELS.get(message_type, "email"),
            "subject": text_at(conversation, "subject")[:2_000],
            "requester": _requester(sender, message_type),
            "tags": _tags(conversation),
        }
        if text is None:  # an event preview: complete() reads the message
            message_id = text_at(message, "id", required=True)
            return Parsed(ref, _ticket(**base), lookup={"message_id": message_id[:200]})
        if not text:
            return Parsed(ref, None, ignored="the message has no text")
        if is_deskguard_note(text):
            return Parsed(ref, None, ignored="Deskguard's own note")
        body = Message(author="requester", body=text[:MAX_BODY_CHARS], created_at=_timestamp(message.get("created_at")))
        return Parsed(ref, _ticket(**base, messages=[body]))

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        message_id = parsed.lookup.get("message_id", "")
        if parsed.ticket is None or not message_id or parsed.ticket.messages:
            return parsed
        message = api.json_object("GET", f"/messages/{quote(message_id, safe='')}")
        conversation = {
            "id": parsed.ref,
            "subject": parsed.ticket.subject,
            "tags": [{"name": t} for t in parsed.ticket.tags],
        }
        try:
            if not _is_inbound(message):
                return Parsed(parsed.ref, None, ignored="an outbound message (a teammate's reply)")
            done = self._read_message(parsed.ref, conversation, message)
        except PayloadError as exc:
            raise WriteBackError(f"GET /messages: {exc.message}", retryable=False) from None
        if done.lookup:  # Front answered without the body either
            return Parsed(parsed.ref, None, ignored="Front returned the message without its text")
        if done.ticket is not None and not (done.ticket.requester.email or done.ticket.requester.phone):
            return Parsed(done.ref, done.ticket.model_copy(update={"requester": parsed.ticket.requester}))
        return done

    # --- API out --------------------------------------------------------------------------

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        token = str(integration.credentials.get("api_token", "")).strip()
        if not token:
            raise WriteBackError("the Front integration has no api_token credential", retryable=False)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return HelpdeskAPI(integration.api_base_url, http, headers=headers)

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        path = f"/conversations/{quote(ref, safe='')}"
        if not any(note.marker in body for body in self._comment_bodies(api, path)):
            api.post(f"{path}/comments", json={"body": note.text})
        conversation = api.json_object("GET", path)
        self._sync_tags(api, path, conversation, note)
        field = str(integration.options.get("custom_field") or "").strip()
        if field:
            self._set_field(api, path, conversation, field, note.level)

    def _comment_bodies(self, api: HelpdeskAPI, path: str) -> Iterator[str]:
        for page in self._pages(api, f"{path}/comments", None):
            for comment in page:
                body = comment.get("body") if isinstance(comment, Mapping) else None
                if isinstance(body, str):
                    yield body

    def _pages(self, api: HelpdeskAPI, url: str, params: Mapping[str, Any] | None) -> Iterator[list[Any]]:
        """`_results` of up to MAX_PAGES pages, following `_pagination.next` only on the API host."""
        for _ in range(MAX_PAGES):
            data = api.json_object("GET", url, params=params)
            results = data.get("_results")
            if not isinstance(results, list):
                raise WriteBackError(f"GET {url.split('?')[0]}: the response has no _results list", retryable=False)
            yield results
            after = dig(data, "_pagination.next")
            if not isinstance(after, str) or not after.startswith(api.base_url + "/"):
                return
            url, params = after, None

    def _sync_tags(self, api: HelpdeskAPI, path: str, conversation: Mapping[str, Any], note: Note) -> None:
        current: dict[str, str] = {}
        for tag in conversation.get("tags") or []:
            if isinstance(tag, Mapping) and isinstance(tag.get("name"), str) and isinstance(tag.get("id"), str):
                current[tag["name"]] = tag["id"]
        missing = [name for name in note.tags if name not in current]
        if missing:
            api.post(f"{path}/tags", json={"tag_ids": self._tag_ids(api, missing)})
        stale = [current[name] for name in note.stale_tags if name in current]
        if stale:
            api.delete(f"{path}/tags", json={"tag_ids": stale})

    def _tag_ids(self, api: HelpdeskAPI, names: list[str]) -> list[str]:
        """Front's tag ids for `names`, creating the company tags that do not exist yet."""
        known: dict[str, str] = {}
        for page in self._pages(api, "/tags", {"limit": TAG_PAGE_LIMIT}):
            for tag in page:
                if isinstance(tag, Mapping) and isinstance(tag.get("name"), str) and isinstance(tag.get("id"), str):
                    known.setdefault(tag["name"], tag["id"])
            if all(name in known for name in names):
                break
        ids = []
        for name in names:
            if name not in known:
                made = api.json_object("POST", "/company/tags", json={"name": name})
                if not isinstance(made.get("id"), str):
                    raise WriteBackError("POST /company/tags: the response has no tag id", retryable=False)
                known[name] = made["id"]
            ids.append(known[name])
        return ids

    @staticmethod
    def _set_field(api: HelpdeskAPI, path: str, conversation: Mapping[str, Any], field: str, level: str) -> None:
        fields = conversation.get("custom_fields")
        current = dict(fields) if isinstance(fields, Mapping) else {}
        if current.get(field) == level:
            return
        current[field] = level  # Front erases the fields a PATCH leaves out, so send them all
        api.patch(path, json={"custom_fields": current})

    def check(self, api: HelpdeskAPI) -> str:
        me = api.json_object("GET", "/me")
        name = me.get("name") if isinstance(me.get("name"), str) else ""
        ident = me.get("id") if isinstance(me.get("id"), str) else ""
        return f"authenticated as {name or 'Front company'} ({ident or 'unknown id'})"

    # --- admin ----------------------------------------------------------------------------

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        event = _sample_event(ticket, now)
        if str(integration.options.get("webhook_kind") or "app").strip().lower() == "rule":
            body = json.dumps(event).encode()
            headers = {SIGNATURE_HEADER.lower(): sign_rule(integration.secret, body)}
        else:
            envelope = {"type": APP_INBOUND, "authorization": {"id": "cmp_deskguard"}, "payload": event}
            body = json.dumps(envelope).encode()
            timestamp = str(int(now * 1000))
            headers = {
                SIGNATURE_HEADER.lower(): sign_app(integration.secret, body, timestamp),
                TIMESTAMP_HEADER.lower(): timestamp,
            }
        return InboundRequest(body=body, headers={"content-type": "application/json", **headers})

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            "Settings > Company > Developers > API tokens > Create API token: feature 'Access resources', "
            "the workspaces to watch, read and write; install it with --credential api_token=<token>",
            "Copy Front's API secret (Settings > Company > Developers) and store it with "
            "`deskguard integrations secret <id> --secret <API secret>`; set --option webhook_kind=rule",
            "Settings > Rules > Create rule: when 'Inbound message is received', then 'Send to a webhook' "
            f"{webhook_url} with the full event payload; turn the rule on",
            "Or an application webhook instead of the rule: app secret (stored as above), webhook_kind=app, "
            "event 'Inbound message received'; Deskguard answers Front's X-Front-Challenge when you save it",
            "Optional: Settings > Company > Custom fields > Conversation > Add field (Text), then "
            "--option custom_field=<field name>",
            "Run `deskguard integrations test <id> --ticket <cnv_ id>` to check the whole path",
        ]


def _sample_event(ticket: Ticket, now: float) -> dict[str, Any]:
    """Front's event object for an inbound message carrying the ticket's last requester message."""
    asked = ticket.requester_messages()
    body = asked[-1][1].body if asked else ""
    digest = hashlib.sha256(f"{ticket.ticket_id}|{now}|{body}".encode()).hexdigest()
    handle = ticket.requester.email or ticket.requester.phone or ticket.requester.external_id or "anonymous"
    sender: dict[str, Any] = {"_links": {"related": {"contact": None}}, "handle": handle, "role": "from"}
    if ticket.requester.name:
        sender["name"] = ticket.requester.name
    if ticket.requester.external_id:
        sender["_links"]["related"]["contact"] = f"{API_BASE}/contacts/crd_{ticket.requester.external_id}"
    paragraphs = "".join(f"<div>{html.escape(line)}</div>" for line in body.splitlines())
    message = {
        "id": f"msg_{digest[:10]}",
        "type": SAMPLE_TYPES.get(ticket.channel, "email"),
        "is_inbound": True,
        "created_at": int(now),
        "blurb": body[:100],
        "body": paragraphs,
        "text": body,
        "author": None,
        "recipients": [sender, {"_links": {"related": {"contact": None}}, "handle": "support@invalid", "role": "to"}],
        "attachments": [],
        "metadata": {},
    }
    conversation = {
        "id": ticket.ticket_id,
        "subject": ticket.subject,
        "status": "unassigned",
        "assignee": None,
        "recipient": sender,
        "tags": [{"id": f"tag_{i}", "name": name} for i, name in enumerate(ticket.tags)],
        "custom_fields": {},
        "last_message": message,
        "created_at": int(now),
    }
    return {
        "id": f"evt_{digest[10:22]}",
        "type": RULE_INBOUND,
        "emitted_at": int(now),
        "conversation": conversation,
        "source": {"_meta": {"type": "inboxes"}, "data": []},
        "target": {"_meta": {"type": "message"}, "data": message},
    }


ADAPTER = FrontAdapter()
