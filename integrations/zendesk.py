"""Zendesk Support: signed webhooks in, a private comment, tags and a ticket field back over the REST API.

Two kinds of Zendesk webhook can point at one integration (Admin Center > Apps and integrations >
Webhooks); a Zendesk webhook is either subscribed to Zendesk events or connected to triggers, never both.

(a) Event subscriptions: `zen:event-type:ticket.created` and `zen:event-type:ticket.comment_added`.
    The body is Zendesk's fixed JSON envelope {type, id, account_id, subject, time,
    zendesk_event_version, detail, event}; `detail` is the ticket (id, subject, description,
    requester_id, is_public, tags, via.channel, ...) and, for comment_added, `event.comment` is
    {id, body, is_public, author {id, is_staff, name}}. The envelope is thin: it names the requester
    only by id, so `complete()` reads the user (name, email, phone, external_id) with
    GET /api/v2/users/{id}.json and, when the event carries no requester text, the ticket's public
    comments with GET /api/v2/tickets/{id}/comments.json (a requester Zendesk answers 404 for is left
    without contacts; any other API failure fails the delivery as helpdesk_unavailable, 503).
    Ignored: other event types, private comments, comments by staff or by anyone but the requester,
    tickets created with no public comment, and any text carrying Deskguard's marker.
(b) Triggers/automations: the admin pastes TRIGGER_TEMPLATE (below; docs/integrations/zendesk.md)
    as the JSON body of a "Notify by > Active webhook" action. Zendesk fills the placeholders
    {{ticket.id}}, {{ticket.title}}, {{ticket.via}}, {{ticket.tags}}, {{ticket.requester.id|name|
    email|phone|external_id}}, {{ticket.latest_public_comment.author.id}},
    {{ticket.latest_public_comment.value}}, {{current_user.id}} and {{current_user.role}}. Ignored:
    updates by agents/admins or by anyone but the requester, a latest public comment not written by
    the requester, no comment text, the marker. An admin-written body that is not this template
    (e.g. the shared zulip fixture) is refused with a PayloadError that says to paste the template.

Signature (https://developer.zendesk.com/documentation/webhooks/verifying/ and
https://developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/): every request
carries `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(signing secret, TIMESTAMP + BODY)), where
TIMESTAMP is the exact text of `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601 UTC, e.g.
"2021-03-25T05:09:27Z") and BODY the raw request bytes, concatenated with no separator; the key is
the signing secret string as UTF-8. Zendesk makes the secret per webhook (webhook page > "Reveal
secret"), so `signing_key_from = "vendor"`; an optional `second_signing_secret` credential holds the
secret of a second webhook (e.g. a trigger webhook next to an event-subscription one) on the same
integration. Zendesk documents no replay window: Deskguard accepts timestamps within
signing.DEFAULT_WINDOW_SECONDS (5 minutes) of now. (An older copy of the page, under
/documentation/event-connectors/webhooks/verifying/, wrote BODY + TIMESTAMP; the current page and
public implementations use TIMESTAMP + BODY, which is what is checked here.)

Delivery id: Zendesk sends `X-Zendesk-Webhook-Id` and `X-Zendesk-Webhook-Invocation-Id` on every
request (anatomy page above); an invocation's retried attempts keep its id, so
"<webhook id>:<invocation id>" is the idempotency key. Without that header, the event envelope's
`id` (https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/), and
only without both, integrations.base.body_digest.

REST API (API token auth, https://developer.zendesk.com/api-reference/introduction/security-and-auth/):
HTTP Basic with username "{email}/token" and password "{api_token}", against
https://{subdomain}.zendesk.com.
- Credential check: GET /api/v2/users/me.json ("Show Self",
  https://developer.zendesk.com/api-reference/ticketing/users/users/#show-self). It is allowed for
  anonymous users, so an answer without an id (anonymous) or with role end-user is refused here.
- Requester: GET /api/v2/users/{user_id}.json (#show-user on the same page).
- Existing notes: GET /api/v2/tickets/{ticket_id}/comments.json with cursor pagination
  `page[size]=100`, `sort=-created_at` (newest first), `page[after]=<meta.after_cursor>` while
  `meta.has_more` (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/#list-comments,
  https://developer.zendesk.com/api-reference/introduction/pagination/); at most MAX_COMMENT_PAGES.
- Private note: PUT /api/v2/tickets/{ticket_id}.json {"ticket": {"comment": {"html_body": ..., "public": false}}}
  (comments are created through Update Ticket; `public: false` is an internal note;
  https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket).
- Tags: PUT /api/v2/tickets/{ticket_id}/tags.json {"tags": [...]} adds ("Add Tags") and DELETE with the
  same body removes ("Remove Tags"), both leaving other tags alone
  (https://developer.zendesk.com/api-reference/ticketing/ticket-management/tags/). `tags` on Update
  Ticket would replace every tag, and `additional_tags`/`remove_tags` are documented for Update
  Many Tickets (a background job), so neither is used
  (https://developer.zendesk.com/documentation/ticketing/managing-tickets/adding-tags-to-tickets-without-overwriting-existing-tags/).
- Field: PUT /api/v2/tickets/{ticket_id} {"ticket": {"custom_fields": [{"id": <option custom_field>,
  "value": "<level>"}]}}, in a request of its own (without the optional ".json", so that it is told
  apart from the note request) after the note and tags, so a field Zendesk refuses never costs the note.
The comment and tag endpoints refuse closed tickets (422), which dead-letters the write-back.

Requester `authenticated` stays False: Zendesk's `verified` flag says an identity was verified once,
not that this message came from a signed-in session. Ticket text is never logged, put in an
exception message or fetched from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, MAX_MESSAGES, Message, Requester, Ticket
from app.core.vocabulary import Author, Channel
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import dig, html_to_text, is_deskguard_note, object_at, tags_of, text_at
from integrations.protocol import (
    CredentialField,
    InboundRequest,
    IntegrationConfig,
    Note,
    Parsed,
    PayloadError,
    SignatureError,
)
from integrations.signing import check_window, hmac_base64, require_header, require_secret, same

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
WEBHOOK_ID_HEADER = "X-Zendesk-Webhook-Id"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
ACCOUNT_HEADER = "X-Zendesk-Account-Id"

EVENT_PREFIX = "zen:event-type:"
TICKET_EVENT_PREFIX = "zen:event-type:ticket."
TICKET_CREATED = "zen:event-type:ticket.created"
COMMENT_ADDED = "zen:event-type:ticket.comment_added"

TEMPLATE_VERSION = "zendesk-trigger/1"
TRIGGER_TEMPLATE: dict[str, Any] = {
    "deskguard": TEMPLATE_VERSION,
    "ticket": {
        "id": "{{ticket.id}}",
        "subject": "{{ticket.title}}",
        "via": "{{ticket.via}}",
        "tags": "{{ticket.tags}}",
        "requester": {
            "id": "{{ticket.requester.id}}",
            "name": "{{ticket.requester.name}}",
            "email": "{{ticket.requester.email}}",
            "phone": "{{ticket.requester.phone}}",
            "external_id": "{{ticket.requester.external_id}}",
        },
        "latest_public_comment": {
            "author_id": "{{ticket.latest_public_comment.author.id}}",
            "value": "{{ticket.latest_public_comment.value}}",
        },
    },
    "current_user": {"id": "{{current_user.id}}", "role": "{{current_user.role}}"},
}

PAGE_SIZE = 100
MAX_COMMENT_PAGES = 10  # newest first: Deskguard's note is among the latest comments of a retry
STAFF_ROLES = ("agent", "admin")
_REF = re.compile(r"[^/?#%\\\s]{1,64}")
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_FIELD_ID = re.compile(r"[0-9]{1,20}")


def _named(channel: Channel, *names: str) -> dict[str, Channel]:
    return dict.fromkeys(names, channel)


# via.channel values of the REST API and of event payloads (Via object reference,
# https://developer.zendesk.com/documentation/ticketing/reference-guides/via-object-reference/).
_CHANNELS: dict[str, Channel] = {
    **_named("email", "email", "mail", "connect_mail", "mailgun"),
    **_named("web", "web", "web_form", "web_widget", "helpcenter", "mobile", "mobile_sdk", "iphone", "topic", "blog"),
    **_named(
        "chat",
        "chat",
        "chat_transcript",
        "chat_offline_message",
        "native_messaging",
        "messaging",
        "sunshine_conversations_api",
        "apple_business_chat",
        "google_business_messages",
        "google_rcs",
        "line",
        "wechat",
        "kakaotalk",
        "telegram",
        "viber",
        "business_messaging_slack_connect",
    ),
    **_named(
        "social",
        "twitter",
        "twitter_dm",
        "twitter_favorite",
        "facebook",
        "facebook_message",
        "facebook_post",
        "instagram_dm",
        "whatsapp",
        "sunshine_conversations_facebook_messenger",
        "sunshine_conversations_twitter_dm",
    ),
    **_named(
        "phone",
        "voice",
        "phone_call_inbound",
        "phone_call_outbound",
        "voicemail",
        "api_phone_call_inbound",
        "api_phone_call_outbound",
        "api_voicemail",
        "sms",
        "text_message",
        "twilio_sms",
        "messagebird_sms",
        "connect_sms",
    ),
    **_named("api", "api", "web_service", "any_channel", "import", "batch", "rule", "closed_ticket"),
}
# {{ticket.via}} renders a display name ("Mail", "Web form", "Phone call (incoming)", "Web service", ...):
# matched by words, first hit wins ("web service" before "web").
_VIA_WORDS: tuple[tuple[tuple[str, ...], Channel], ...] = (
    (("web service", "api"), "api"),
    (("phone", "voice", "call", "sms", "text"), "phone"),
    (("mail",), "email"),
    (("twitter", "facebook", "instagram", "whatsapp", "social"), "social"),
    (("chat", "messag", "wechat", "telegram", "viber"), "chat"),
    (("web", "form", "widget", "help center", "mobile"), "web"),
)
_VIA_NAMES: dict[str, str] = {
    "email": "Mail",
    "chat": "Chat",
    "web": "Web form",
    "phone": "Phone call (incoming)",
    "social": "Twitter",
    "api": "Web service",
}


# --- signature ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk signs a webhook request."""
    return hmac_base64(secret, timestamp.encode("utf-8") + body)


def timestamp_seconds(value: str) -> float:
    """Seconds since the epoch from the signature timestamp (ISO 8601; unix seconds also read)."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        raise SignatureError("signature_invalid", f"{TIMESTAMP_HEADER} is not an ISO 8601 time") from None


def iso_timestamp(now: float) -> str:
    """The signature timestamp Zendesk would send at `now`."""
    return datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- small readers -------------------------------------------------------------------------------


def _bool_at(payload: Any, path: str, *, required: bool = False) -> bool | None:
    """A JSON boolean at `path`; None when absent; PayloadError for any other type."""
    value = dig(payload, path)
    if value is None:
        if required:
            raise PayloadError(f"`{path}` is missing")
        return None
    if not isinstance(value, bool):
        raise PayloadError(f"`{path}` should be true or false, not {type(value).__name__}")
    return value


def _tags(payload: Any, path: str) -> list[str]:
    """Tags given as a JSON list of strings or as Zendesk's space-separated {{ticket.tags}}."""
    value = dig(payload, path)
    if isinstance(value, list):
        if not all(isinstance(tag, str) for tag in value):
            raise PayloadError(f"`{path}` should be a list of strings")
        return tags_of(value)
    return tags_of(text_at(payload, path))


def _clip(text: str, limit: int) -> str:
    return text.strip()[:limit]


def channel_of_event(value: str) -> Channel:
    """A ticket's via.channel (REST and event spelling) as a Deskguard channel."""
    return _CHANNELS.get(value.strip().lower(), "web")


def channel_of_via(value: str) -> Channel:
    """A rendered {{ticket.via}} display name as a Deskguard channel."""
    text = value.strip().lower()
    exact = _CHANNELS.get(text.replace(" ", "_"))
    if exact is not None:
        return exact
    for words, channel in _VIA_WORDS:
        if any(word in text for word in words):
            return channel
    return "web"


def _requester(name: str = "", email: str = "", phone: str = "", external_id: str = "") -> Requester:
    return Requester(
        name=_clip(name, 300),
        email=_clip(email, 320),
        phone=_clip(phone, 64),
        external_id=_clip(external_id, 200),
        authenticated=False,
    )


def _ticket(**fields: Any) -> Ticket:
    """A Ticket, with any model refusal reported as PayloadError (never a 500)."""
    try:
        return Ticket(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise PayloadError(f"the ticket cannot be read: {where}: {err['msg']}") from None


def _ref(ref: str) -> str:
    """An id as one URL path segment; a reference that could leave the segment is refused."""
    if not _REF.fullmatch(ref) or ref in (".", ".."):
        raise WriteBackError("the ticket reference is not a Zendesk ticket id", retryable=False)
    return quote(ref, safe="")


def _api_data(data: Any, key: str, what: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise WriteBackError(f"Zendesk's {what} response has no `{key}`", retryable=False)
    return data[key]


# --- the adapter ---------------------------------------------------------------------------------


class ZendeskAdapter(AdapterBase):
    provider = "zendesk"
    title = "Zendesk"
    credential_fields = (
        CredentialField("subdomain", "your Zendesk subdomain: acme for https://acme.zendesk.com", secret=False),
        CredentialField("email", "sign-in email of the agent or admin who owns the API token", secret=False),
        CredentialField("api_token", "an API token from Admin Center > Apps and integrations > APIs > API tokens"),
        CredentialField(
            "second_signing_secret",
            "signing secret of a second Zendesk webhook sending to this integration (optional)",
            required=False,
        ),
        CredentialField(
            "zendesk_app_public_key",
            "the sidebar app's signed-URL public key (PEM) for the banner: zendesk_app_public_key=@key.pem",
            required=False,
            secret=False,
        ),
        CredentialField("banner_app_secret", "the sidebar app's HS256 shared secret (optional)", required=False),
    )
    signing_key_from = "vendor"
    option_names = ("zendesk_app_issuer", "zendesk_app_audience")  # the banner's signed-URL claims

    # -- setup -----------------------------------------------------------------------------------

    def base_url(self, credentials: Mapping[str, str]) -> str:
        raw = credentials.get("subdomain", "").strip().lower()
        raw = raw.removeprefix("https://").removeprefix("http://").split("/")[0].removesuffix(".zendesk.com")
        return f"https://{raw}.zendesk.com" if _SUBDOMAIN.fullmatch(raw) else ""

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            "Admin Center > Apps and integrations > APIs > API tokens (older accounts: Zendesk API, with Token "
            "access on): add an API token (credential api_token); credential email is the sign-in email of the "
            "full agent Deskguard acts as",
            f"Admin Center > Apps and integrations > Webhooks > Create webhook > Zendesk events: subscribe to "
            f"'Ticket created' and 'Comment added' (zen:event-type:ticket.created, "
            f"zen:event-type:ticket.comment_added); endpoint URL {webhook_url}; method POST; format JSON; "
            "authentication None",
            "Open the new webhook > Signing secret > Reveal secret, and give it to Deskguard: "
            f"deskguard integrations secret {integration.id} --secret <the secret>",
            "Or instead (or as well): create a webhook connected to Trigger or automation with the same URL, POST, "
            "JSON, and a trigger (Objects and rules > Business rules > Triggers) with conditions 'Comment is Public' "
            "and 'Current user is (end user)', action 'Notify by > Active webhook' with Deskguard's JSON body from "
            "docs/integrations/zendesk.md; its signing secret goes in credential second_signing_secret if the "
            "first webhook's secret is already set",
            "Optional: Admin Center > Objects and rules > Tickets > Fields > Add field > Text: pass its numeric id "
            "as --option custom_field=<id> to record the risk level",
        ]

    # -- webhooks --------------------------------------------------------------------------------

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        timestamp = require_header(request.headers, TIMESTAMP_HEADER)
        check_window(timestamp_seconds(timestamp), now)
        secrets = [secret]
        second = str(integration.credentials.get("second_signing_secret", "")).strip()
        if second:
            secrets.append(second)
        if not any(same(sign(key, timestamp, request.body), given) for key in secrets):
            raise SignatureError(
                "signature_invalid", f"{SIGNATURE_HEADER} does not match the body and this integration's secret"
            )

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        invocation = request.headers.get(INVOCATION_HEADER.lower(), "").strip()
        if invocation:
            webhook = request.headers.get(WEBHOOK_ID_HEADER.lower(), "").strip()
            return f"zendesk-invocation:{webhook}:{invocation}"[:200]
        event_id = payload.get("id")
        if isinstance(payload.get("type"), str) and isinstance(event_id, str) and event_id.strip():
            return f"zendesk-event:{event_id.strip()}"[:200]
        return body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        kind = payload.get("type")
        if isinstance(kind, str) and kind.startswith(EVENT_PREFIX):
            return self._parse_event(payload, kind)
        if "deskguard" in payload:
            return self._parse_trigger(payload)
        raise PayloadError(
            "not a Zendesk event (no `type` zen:event-type:...) and not Deskguard's trigger body (no `deskguard`): "
            "paste the JSON body from Deskguard's Zendesk guide into the trigger's webhook action"
        )

    def _parse_event(self, payload: Mapping[str, Any], kind: str) -> Parsed:
        """An event-subscription delivery: ticket.created and requester comments; the rest is ignored."""
        if not kind.startswith(TICKET_EVENT_PREFIX):
            return Parsed("", None, ignored=f"event type {kind[:80]} is not assessed")
        detail = object_at(payload, "detail", required=True)
        ref = text_at(detail, "id", required=True)
        if kind not in (TICKET_CREATED, COMMENT_ADDED):
            return Parsed(ref, None, ignored=f"event type {kind[:80]} is not assessed")
        requester_id = text_at(detail, "requester_id", required=True)
        if not _REF.fullmatch(requester_id):
            raise PayloadError("`detail.requester_id` is not a Zendesk user id")
        subject = text_at(detail, "subject")
        if kind == TICKET_CREATED:
            text = text_at(detail, "description")
            if _bool_at(detail, "is_public") is False:
                return Parsed(ref, None, ignored="the ticket was created with a private comment only")
        else:
            comment = object_at(payload, "event.comment", required=True)
            text = text_at(comment, "body")
            why = self._skip_comment(comment, requester_id)
            if why:
                return Parsed(ref, None, ignored=why)
        if is_deskguard_note(text) or is_deskguard_note(subject):
            return Parsed(ref, None, ignored="Deskguard's own note")
        messages = [Message(author="requester", body=_clip(text, MAX_BODY_CHARS))] if text.strip() else []
        ticket = _ticket(
            ticket_id=ref[:200],
            channel=channel_of_event(text_at(object_at(detail, "via"), "channel")),
            subject=_clip(subject, 2_000),
            messages=messages,
            tags=_tags(detail, "tags"),
        )
        lookup = {"requester_id": requester_id, "fetch_comments": "" if messages else "yes"}
        return Parsed(ref, ticket, lookup=lookup)

    @staticmethod
    def _skip_comment(comment: Mapping[str, Any], requester_id: str) -> str:
        """Why a comment_added event is not the requester's new public text ("" when it is)."""
        public = _bool_at(comment, "is_public", required=True)
        author = object_at(comment, "author")
        staff = _bool_at(author, "is_staff")
        author_id = text_at(author, "id")
        if not public:
            return "private comment (internal note)"
        if staff:
            return "comment by an agent"
        if author_id != requester_id:
            return "comment not written by the requester"
        return ""

    def _parse_trigger(self, payload: Mapping[str, Any]) -> Parsed:
        """A trigger/automation delivery in Deskguard's template shape (TRIGGER_TEMPLATE)."""
        version = text_at(payload, "deskguard")
        if version != TEMPLATE_VERSION:
            raise PayloadError(f"unknown trigger body version; expected `deskguard`: {TEMPLATE_VERSION!r}")
        ref = text_at(payload, "ticket.id", required=True)
        if "{{" in ref:
            raise PayloadError("`ticket.id` is an unrendered placeholder; send the body from a trigger or automation")
        current = object_at(payload, "current_user", required=True)
        requester = object_at(payload, "ticket.requester", required=True)
        requester_id = text_at(requester, "id")
        comment = object_at(payload, "ticket.latest_public_comment")
        text = text_at(comment, "value")
        subject = text_at(payload, "ticket.subject")
        why = self._skip_trigger(current, requester_id, text_at(comment, "author_id"))
        if why:
            return Parsed(ref, None, ignored=why)
        if is_deskguard_note(text) or is_deskguard_note(subject):
            return Parsed(ref, None, ignored="Deskguard's own note")
        if not text.strip():
            return Parsed(ref, None, ignored="no public comment text")
        ticket = _ticket(
            ticket_id=ref[:200],
            channel=channel_of_via(text_at(payload, "ticket.via")),
            subject=_clip(subject, 2_000),
            messages=[Message(author="requester", body=_clip(text, MAX_BODY_CHARS))],
            requester=_requester(
                text_at(requester, "name"),
                text_at(requester, "email"),
                text_at(requester, "phone"),
                text_at(requester, "external_id"),
            ),
            tags=_tags(payload, "ticket.tags"),
        )
        return Parsed(ref, ticket)

    @staticmethod
    def _skip_trigger(current: Mapping[str, Any], requester_id: str, author_id: str) -> str:
        """Why a trigger delivery is not new text from the requester ("" when it is)."""
        role = text_at(current, "role").strip().lower()
        current_id = text_at(current, "id").strip()
        if any(staff in role for staff in STAFF_ROLES):
            return "ticket updated by an agent"
        if not current_id:
            return "no current user (a system or automation update)"
        if requester_id and current_id != requester_id:
            return "ticket updated by someone other than the requester"
        if author_id and requester_id and author_id != requester_id:
            return "the latest public comment is not the requester's"
        return ""

    # -- REST API --------------------------------------------------------------------------------

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        email = str(integration.credentials.get("email", "")).strip()
        token = str(integration.credentials.get("api_token", "")).strip()
        if not email or not token:
            raise WriteBackError("Zendesk needs the email and api_token credentials", retryable=False)
        return HelpdeskAPI(
            integration.api_base_url, http, headers={"Accept": "application/json"}, auth=(f"{email}/token", token)
        )

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        """For an event delivery: the requester's contacts, and the conversation when the event had no text."""
        requester_id = parsed.lookup.get("requester_id", "")
        if parsed.ticket is None or not requester_id:
            return parsed
        try:
            requester = self._fetch_requester(api, requester_id)
        except WriteBackError as exc:
            if exc.status != 404:  # credentials, rate limits and outages: the vendor retries the delivery
                raise
            requester = _requester()  # the requester was deleted: assess what the event says
        ticket = parsed.ticket.model_copy(update={"requester": requester})
        if parsed.lookup.get("fetch_comments"):
            messages = self._conversation(api, parsed.ref, requester_id)
            if not messages:
                return Parsed(parsed.ref, None, ignored="no public comment by the requester", lookup=parsed.lookup)
            ticket = ticket.model_copy(update={"messages": messages})
        return Parsed(parsed.ref, ticket, lookup=parsed.lookup)

    def _fetch_requester(self, api: HelpdeskAPI, user_id: str) -> Requester:
        user = _api_data(api.json("GET", f"/api/v2/users/{_ref(user_id)}.json"), "user", "user")
        if not isinstance(user, Mapping):
            raise WriteBackError("Zendesk's user response has no user object", retryable=False)
        try:
            return _requester(
                text_at(user, "name"), text_at(user, "email"), text_at(user, "phone"), text_at(user, "external_id")
            )
        except PayloadError as exc:
            raise WriteBackError(f"Zendesk's user response cannot be read: {exc.message}", retryable=False) from None

    def _comments_page(self, api: HelpdeskAPI, ref: str, after: str = "") -> tuple[list[Mapping[str, Any]], str]:
        """One page of comments, newest first, and the cursor of the next page ("" when none)."""
        params = {"page[size]": PAGE_SIZE, "sort": "-created_at"}
        if after:
            params["page[after]"] = after
        data = api.json("GET", f"/api/v2/tickets/{_ref(ref)}/comments.json", params=params)
        comments = _api_data(data, "comments", "comments")
        if not isinstance(comments, list) or not all(isinstance(c, Mapping) for c in comments):
            raise WriteBackError("Zendesk's comments response is not a list of comments", retryable=False)
        meta = data.get("meta")
        more = isinstance(meta, Mapping) and meta.get("has_more") is True
        cursor = meta.get("after_cursor") if isinstance(meta, Mapping) else None
        return comments, cursor if more and isinstance(cursor, str) else ""

    @staticmethod
    def _comment_text(comment: Mapping[str, Any]) -> str:
        for key in ("plain_body", "body"):
            value = comment.get(key)
            if isinstance(value, str) and value.strip():
                return value
        html = comment.get("html_body")
        return html_to_text(html) if isinstance(html, str) else ""

    def _conversation(self, api: HelpdeskAPI, ref: str, requester_id: str) -> list[Message]:
        """The latest public comments, oldest first, ending with the requester's latest comment."""
        comments, _ = self._comments_page(api, ref)
        messages: list[Message] = []
        for comment in reversed(comments):
            text = self._comment_text(comment)
            if comment.get("public") is not True or not text.strip() or is_deskguard_note(text):
                continue
            author: Author = "requester" if str(comment.get("author_id", "")) == requester_id else "agent"
            messages.append(Message(author=author, body=_clip(text, MAX_BODY_CHARS)))
        last = max((i for i, m in enumerate(messages) if m.author == "requester"), default=-1)
        return messages[: last + 1][-MAX_MESSAGES:]

    def _note_exists(self, api: HelpdeskAPI, ref: str, marker: str) -> bool:
        after = ""
        for _ in range(MAX_COMMENT_PAGES):
            comments, after = self._comments_page(api, ref, after)
            for comment in comments:
                if any(
                    isinstance(comment.get(k), str) and marker in comment[k]
                    for k in ("body", "html_body", "plain_body")
                ):
                    return True
            if not after:
                return False
        return False

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        ticket = _ref(ref)
        if not self._note_exists(api, ref, note.marker):
            api.put(
                f"/api/v2/tickets/{ticket}.json",
                json={"ticket": {"comment": {"html_body": note.html, "public": False}}},
            )
        if note.tags:
            api.put(f"/api/v2/tickets/{ticket}/tags.json", json={"tags": list(note.tags)})
        if note.stale_tags:
            api.delete(f"/api/v2/tickets/{ticket}/tags.json", json={"tags": list(note.stale_tags)})
        field = str(integration.options.get("custom_field", "") or "").strip()
        if field:
            if not _FIELD_ID.fullmatch(field):
                raise WriteBackError(
                    "option custom_field must be the numeric id of a Zendesk ticket field", retryable=False
                )
            api.put(
                f"/api/v2/tickets/{ticket}",
                json={"ticket": {"custom_fields": [{"id": int(field), "value": note.level}]}},
            )

    def check(self, api: HelpdeskAPI) -> str:
        user = _api_data(api.json("GET", "/api/v2/users/me.json"), "user", "users/me")
        user_id = dig(user, "id")
        role = dig(user, "role")
        if isinstance(user_id, bool) or not isinstance(user_id, int | str) or not str(user_id).strip():
            raise WriteBackError(
                "Zendesk answered as an anonymous user: check the email and api_token", retryable=False
            )
        if not isinstance(role, str) or role not in STAFF_ROLES:
            raise WriteBackError("the API token's user is not an agent or admin; notes need an agent", retryable=False)
        return f"authenticated as {role} {user_id}"

    # -- test deliveries -------------------------------------------------------------------------

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        """The trigger delivery Zendesk would send for `ticket`, filled as TRIGGER_TEMPLATE says."""
        latest = next((m.body for m in reversed(ticket.messages) if m.author == "requester"), "")
        user_id = ticket.requester.external_id or "sample-requester"
        body = json.dumps(
            {
                "deskguard": TEMPLATE_VERSION,
                "ticket": {
                    "id": ticket.ticket_id,
                    "subject": ticket.subject,
                    "via": _VIA_NAMES[ticket.channel],
                    "tags": " ".join(ticket.tags),
                    "requester": {
                        "id": user_id,
                        "name": ticket.requester.name,
                        "email": ticket.requester.email,
                        "phone": ticket.requester.phone,
                        "external_id": ticket.requester.external_id,
                    },
                    "latest_public_comment": {"author_id": user_id, "value": latest},
                },
                "current_user": {"id": user_id, "role": "end-user"},
            },
            indent=2,
        ).encode()
        timestamp = iso_timestamp(now)
        return InboundRequest(
            body=body,
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER.lower(): sign(integration.secret, timestamp, body),
                TIMESTAMP_HEADER.lower(): timestamp,
                WEBHOOK_ID_HEADER.lower(): "deskguard-sample",
                INVOCATION_HEADER.lower(): f"sample-{ticket.ticket_id}-{int(now)}",
            },
        )


def template_json() -> str:
    """The trigger body to paste into Zendesk, as shown in the admin guide."""
    return json.dumps(TRIGGER_TEMPLATE, indent=2)


ADAPTER = ZendeskAdapter()
