"""Freshdesk: automation-rule webhooks in, private notes, tags and a ticket field out over API v2.

Inbound (Freshdesk automation rule "Trigger webhook" action)
    Freshdesk does not sign webhook requests: there is no signature header, no timestamp and no
    delivery id. Deskguard therefore makes a per-integration shared secret (signing_key_from
    "deskguard") that the admin types into the rule, in one of two places chosen by the option
    `secret_in`:
      - "header" (default): a custom header `X-Deskguard-Secret: <secret>` (the action's
        "Add custom headers" box), compared with hmac.compare_digest;
      - "query": the callback URL ends in `?secret=<secret>`, compared the same way.
    The secret proves only who sent the request, not the body: Freshdesk signs nothing, so a body
    cannot be checked for tampering (use HTTPS, and optionally the `ip_allowlist` option).
    A missing header/parameter is `signature_missing`, a wrong one `signature_invalid`, an
    integration without a secret `secret_invalid`; there is no timestamp, so never `timestamp_stale`.

    Delivery id: Freshdesk sends none and the recommended body has no per-update id, so
    `delivery_id` is the SHA-256 of the raw body (integrations.base.body_digest): an identical body
    is the same delivery.

    Body: the rule's Encoding is JSON and its Content is "Advanced", set to RECOMMENDED_BODY below
    (Freshdesk placeholders in double braces). It extends the shape of Zulip's documented Freshdesk
    template (`{"freshdesk_webhook": {...}}`), so those bodies parse as well:
      - `event`: a literal the admin sets per rule: "ticket_created" (rule on ticket creation) or
        "requester_reply" (rule on ticket updates, "When an action performed by: Requester",
        event "Reply is sent");
      - `performed_by`: a literal "requester", matching that rule's performer; anything else is ignored;
      - `triggered_event` = {{triggered_event}}, e.g. "{ticket_action:created}", "{note_type:private}".
        Notes (`note_type`) are always ignored: only agents add notes. Without `event`, only
        "{ticket_action:created}" is assessed;
      - `ticket_id` {{ticket.id}}, `ticket_subject` {{ticket.subject}}, `ticket_description`
        {{ticket.description}} (HTML, the requester's first message), `ticket_latest_public_comment`
        {{ticket.latest_public_comment}} (HTML, the reply that fired the rule), `ticket_source`
        {{ticket.source}}, `ticket_tags` {{ticket.tags}} (comma separated), `requester_name`,
        `requester_email`, `requester_phone` ({{ticket.requester.name|email|phone}}).
    Freshdesk documents no verified/signed-in flag for requesters in webhooks (portal tickets may be
    anonymous), so `authenticated` is always False.

Outbound (REST API v2, https://{domain}.freshdesk.com; HTTP Basic auth, API key as the user name and
"X" as the password; 401 on bad credentials, 429 with Retry-After when rate limited):
    - existing notes: GET /api/v2/tickets/{id}/conversations?page=N&per_page=100 (at most
      MAX_CONVERSATION_PAGES pages); a conversation whose body contains the note's marker means the
      note was already written;
    - note: POST /api/v2/tickets/{id}/notes {"body": <html>, "private": true};
    - tags: GET /api/v2/tickets/{id}, then PUT /api/v2/tickets/{id} {"tags": [...]} with the current
      tags plus Deskguard's minus the stale ones (the PUT replaces the whole list), only when it changes;
    - field: option `custom_field` is the field's API name (e.g. cf_deskguard_risk); PUT
      /api/v2/tickets/{id} {"custom_fields": {"cf_...": "<level>"}} unless it already holds the level;
    - check: GET /api/v2/agents/me.

Vendor documentation used:
    https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules
    https://support.freshdesk.com/support/solutions/articles/99047 (automation rules on ticket updates)
    https://developers.freshdesk.com/api/ (authentication, #add_note_to_a_ticket,
        #list_all_ticket_notes, #view_a_ticket, #update_ticket, #me, pagination, rate limits)
    https://developers.freshworks.com/docs/app-sdk/v2.3/freshdesk/serverless-apps/product-events/onconversation/
        ("a requester/end user can only reply to a ticket; an agent can reply and add public/private notes")
    https://zulip.com/integrations/doc/freshdesk (template shape and {{triggered_event}} values)
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, Message, Requester, Ticket
from app.core.vocabulary import Channel
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import dig, html_to_text, is_deskguard_note, object_at, text_at
from integrations.protocol import (
    CredentialField,
    InboundRequest,
    IntegrationConfig,
    Note,
    Parsed,
    PayloadError,
    SignatureError,
)
from integrations.signing import require_header, require_secret, same

SECRET_HEADER = "X-Deskguard-Secret"  # noqa: S105 (a header name, not a secret)
SECRET_QUERY = "secret"  # noqa: S105 (a parameter name)
ROOT = "freshdesk_webhook"
EVENT_CREATED = "ticket_created"
EVENT_REPLY = "requester_reply"
PER_PAGE = 100
MAX_CONVERSATION_PAGES = 10
# Freshdesk documents no rendering of {{triggered_event}} for "Reply is sent"; parse() relies on `event`.
SAMPLE_REPLY_TRIGGER = "{reply:sent}"
_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

RECOMMENDED_BODY = """{"freshdesk_webhook": {
  "event": "%EVENT%",
  "performed_by": "requester",
  "triggered_event": "{{triggered_event}}",
  "ticket_id": "{{ticket.id}}",
  "ticket_url": "{{ticket.url}}",
  "ticket_subject": "{{ticket.subject}}",
  "ticket_description": "{{ticket.description}}",
  "ticket_latest_public_comment": "{{ticket.latest_public_comment}}",
  "ticket_source": "{{ticket.source}}",
  "ticket_tags": "{{ticket.tags}}",
  "requester_name": "{{ticket.requester.name}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_phone": "{{ticket.requester.phone}}"
}}"""

# {{ticket.source}} renders the source's name; the API's numeric codes are accepted too.
_SOURCE_CHANNEL: dict[str, Channel] = {
    "email": "email",
    "outbound email": "email",
    "1": "email",
    "10": "email",
    "portal": "web",
    "feedback widget": "web",
    "forum": "web",
    "ecommerce": "web",
    "2": "web",
    "4": "web",
    "9": "web",
    "phone": "phone",
    "3": "phone",
    "chat": "chat",
    "mobihelp": "chat",
    "7": "chat",
    "8": "chat",
    "twitter": "social",
    "facebook": "social",
    "whatsapp": "social",
    "instagram": "social",
    "5": "social",
    "6": "social",
}
_CHANNEL_SOURCE = {"email": "Email", "web": "Portal", "phone": "Phone", "chat": "Chat", "social": "Twitter"}


def ticket_path(ref: str, suffix: str = "") -> str:
    """The API path of ticket `ref` (quoted: a ref never escapes its path segment)."""
    return f"/api/v2/tickets/{quote(ref, safe='')}{suffix}"


def recommended_body(event: str) -> str:
    """The webhook Content to paste into a rule, for `event` ("ticket_created" or "requester_reply")."""
    return RECOMMENDED_BODY.replace("%EVENT%", event)


def _channel(source: str) -> Channel:
    if not source:
        return "email"
    return _SOURCE_CHANNEL.get(source.strip().lower(), "web")


def _tags(value: Any) -> list[str]:
    """{{ticket.tags}} renders as "a, b" (tags may contain spaces); a JSON list is accepted too."""
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(t, str) for t in value):
            raise PayloadError("`ticket_tags` should be a list of text")
        items = value
    elif isinstance(value, str):
        items = value.split(",")
    else:
        raise PayloadError("`ticket_tags` should be text")
    return [t.strip()[:100] for t in items if t.strip()][:200]


def _text(root: Mapping[str, Any], key: str, limit: int) -> str:
    return text_at(root, key)[:limit]


def _event_kind(root: Mapping[str, Any]) -> tuple[str, str]:
    """("created" | "reply", "") for a delivery to assess, else ("", why it is ignored)."""
    triggered = text_at(root, "triggered_event").replace(" ", "").lower()
    performer = text_at(root, "performed_by").strip().lower()
    event = text_at(root, "event").strip().lower()
    if "note_type" in triggered:
        return "", "a note (only agents add notes)"
    if performer and performer != "requester":
        return "", "an update not performed by the requester"
    if event == EVENT_CREATED:
        return "created", ""
    if event == EVENT_REPLY:
        return "reply", ""
    if event:
        return "", "an event type Deskguard does not assess"
    if "ticket_action:created" in triggered:
        return "created", ""
    return "", "an event type Deskguard does not assess (not new requester text)"


def _messages(root: Mapping[str, Any], kind: str) -> list[Message]:
    """The requester's words: the description, then (for a reply) the latest public comment."""
    if dig(root, "ticket_description") is None and kind == "created":
        raise PayloadError("`freshdesk_webhook.ticket_description` is missing")
    description = html_to_text(text_at(root, "ticket_description"))[:MAX_BODY_CHARS]
    if kind == "created":
        return [Message(author="requester", body=description)]
    comment = html_to_text(text_at(root, "ticket_latest_public_comment", required=True))[:MAX_BODY_CHARS]
    if description and description != comment:
        return [Message(author="requester", body=description), Message(author="requester", body=comment)]
    return [Message(author="requester", body=comment)]


def _requester(root: Mapping[str, Any]) -> Requester:
    return Requester(
        name=_text(root, "requester_name", 300),
        email=_text(root, "requester_email", 320).strip(),
        phone=_text(root, "requester_phone", 64).strip(),
        authenticated=False,
    )


def _api_key(integration: IntegrationConfig) -> str:
    key = str(integration.credentials.get("api_key", "")).strip()
    if not key:
        raise WriteBackError("the Freshdesk integration has no api_key credential", retryable=False)
    return key


class FreshdeskAdapter(AdapterBase):
    provider = "freshdesk"
    title = "Freshdesk"
    credential_fields = (
        CredentialField("domain", "Your Freshdesk subdomain: acme for https://acme.freshdesk.com", secret=False),
        CredentialField("api_key", "API key of the agent Deskguard writes as (Profile settings > View API key)"),
        CredentialField("banner_app_secret", "the sidebar app's HS256 shared secret (optional)", required=False),
    )
    signing_key_from = "deskguard"
    option_names = ("secret_in",)

    def base_url(self, credentials: Mapping[str, str]) -> str:
        """https://{domain}.freshdesk.com from `domain` (a subdomain, or a *.freshdesk.com host)."""
        domain = str(credentials.get("domain", "")).strip().lower()
        domain = domain.removeprefix("https://").removeprefix("http://").strip("/")
        domain = domain.removesuffix(".freshdesk.com")
        return f"https://{domain}.freshdesk.com" if _SUBDOMAIN.match(domain) else ""

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        """The shared secret, in the header or the query parameter the `secret_in` option names."""
        secret = require_secret(integration.secret)
        where = str(integration.options.get("secret_in", "header") or "header").strip().lower()
        if where == "header":
            given, what = require_header(request.headers, SECRET_HEADER), f"the {SECRET_HEADER} header"
        elif where == "query":
            given, what = str(request.query.get(SECRET_QUERY, "")).strip(), f"the ?{SECRET_QUERY}= parameter"
            if not given:
                raise SignatureError("signature_missing", f"{what} is missing from the webhook URL")
        else:
            raise SignatureError("signature_invalid", "the secret_in option must be header or query")
        if not same(secret, given):
            raise SignatureError("signature_invalid", f"{what} does not match this integration's secret")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        """Freshdesk sends no delivery id: the body's SHA-256."""
        return body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        root = object_at(payload, ROOT, required=True)
        ref = text_at(root, "ticket_id", required=True).strip()
        if not ref or len(ref) > 200:
            raise PayloadError("`freshdesk_webhook.ticket_id` is empty or too long")
        subject = _text(root, "ticket_subject", 2_000)
        source = text_at(root, "ticket_source")
        tags = _tags(root.get("ticket_tags"))
        kind, why = _event_kind(root)
        if not kind:
            return Parsed(ref, None, ignored=why)
        messages = _messages(root, kind)
        if any(is_deskguard_note(m.body) for m in messages):
            return Parsed(ref, None, ignored="text containing Deskguard's own note marker")
        try:
            ticket = Ticket(
                ticket_id=ref,
                channel=_channel(source),
                subject=subject,
                messages=messages,
                requester=_requester(root),
                tags=tags,
            )
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "(root)"
            raise PayloadError(f"the ticket cannot be read: {where}") from None
        return Parsed(ref, ticket)

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        """Basic auth: the API key as user name, "X" as password."""
        return HelpdeskAPI(
            integration.api_base_url,
            http,
            headers={"Accept": "application/json"},
            auth=(_api_key(integration), "X"),
        )

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        if not self._has_note(api, ref, note.marker):
            api.post(ticket_path(ref, "/notes"), json={"body": note.html, "private": True})
        ticket = api.json_object("GET", ticket_path(ref))
        self._set_tags(api, ref, ticket, note)
        field = str(integration.options.get("custom_field", "") or "").strip()
        if field:
            self._set_field(api, ref, ticket, field, note.level)

    def _has_note(self, api: HelpdeskAPI, ref: str, marker: str) -> bool:
        """Whether a conversation of the ticket already carries `marker` (bounded pagination)."""
        for page in range(1, MAX_CONVERSATION_PAGES + 1):
            items = api.json("GET", ticket_path(ref, "/conversations"), params={"page": page, "per_page": PER_PAGE})
            if not isinstance(items, list):
                raise WriteBackError(
                    "Freshdesk answered the conversation list with something other than a list", retryable=False
                )
            for item in items:
                if isinstance(item, Mapping) and any(
                    isinstance(item.get(k), str) and marker in item[k] for k in ("body", "body_text")
                ):
                    return True
            if len(items) < PER_PAGE:
                return False
        return False

    def _set_tags(self, api: HelpdeskAPI, ref: str, ticket: Mapping[str, Any], note: Note) -> None:
        """PUT replaces the list: write current + Deskguard's - stale, and only when that changes."""
        tags = ticket.get("tags") or []
        if not isinstance(tags, list):
            raise WriteBackError("Freshdesk answered the ticket with tags that are not a list", retryable=False)
        current = [str(t) for t in tags]
        stale = set(note.stale_tags)
        wanted = [t for t in current if t not in stale]
        wanted += [t for t in note.tags if t not in wanted]
        if wanted != current:
            api.put(ticket_path(ref), json={"tags": wanted})

    def _set_field(self, api: HelpdeskAPI, ref: str, ticket: Mapping[str, Any], field: str, level: str) -> None:
        fields = ticket.get("custom_fields")
        if isinstance(fields, Mapping) and fields.get(field) == level:
            return
        api.put(ticket_path(ref), json={"custom_fields": {field: level}})

    def check(self, api: HelpdeskAPI) -> str:
        me = api.json_object("GET", "/api/v2/agents/me")
        return f"authenticated as agent {str(me.get('id', '?'))[:40]}"

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        """The recommended body for `ticket`: "ticket_created" with one requester message, else a
        "requester_reply" whose latest public comment is the last requester message."""
        said = [m.body for _, m in ticket.requester_messages()]
        kind = EVENT_REPLY if len(said) > 1 else EVENT_CREATED
        root = {
            "event": kind,
            "performed_by": "requester",
            "triggered_event": SAMPLE_REPLY_TRIGGER if kind == EVENT_REPLY else "{ticket_action:created}",
            "ticket_id": ticket.ticket_id,
            "ticket_url": f"{integration.api_base_url.rstrip('/')}/helpdesk/tickets/{quote(ticket.ticket_id, safe='')}",
            "ticket_subject": ticket.subject,
            "ticket_description": _as_html(said[0] if said else ""),
            "ticket_latest_public_comment": _as_html(said[-1]) if kind == EVENT_REPLY else "",
            "ticket_source": _CHANNEL_SOURCE.get(ticket.channel, "Portal"),
            "ticket_tags": ", ".join(ticket.tags),
            "requester_name": ticket.requester.name,
            "requester_email": ticket.requester.email,
            "requester_phone": ticket.requester.phone,
        }
        body = json.dumps({ROOT: root}, ensure_ascii=False).encode("utf-8")
        headers = {"content-type": "application/json"}
        query: dict[str, str] = {}
        if str(integration.options.get("secret_in", "header") or "header").strip().lower() == "query":
            query[SECRET_QUERY] = integration.secret
        else:
            headers[SECRET_HEADER.lower()] = integration.secret
        return InboundRequest(body=body, headers=headers, query=query)

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        in_query = str(integration.options.get("secret_in", "header") or "header").strip().lower() == "query"
        url = f"{webhook_url}?{SECRET_QUERY}=<the integration secret>" if in_query else webhook_url
        where = (
            "the secret is the ?secret= parameter of the Callback URL; add no custom header"
            if in_query
            else f"tick 'Add custom headers' and enter {SECRET_HEADER}: <the integration secret>"
        )
        return [
            "Freshdesk: Admin > Workflows > Automation Rules > Ticket Creation tab > New rule 'Deskguard: new tickets'",
            "Conditions: match ANY of 'Source is Email' and 'Source is not Email' (every ticket)",
            f"Action 'Trigger webhook': Request type POST, Callback URL {url}",
            f"In the same action {where}",
            "Encoding JSON, Content 'Advanced', paste this body: " + recommended_body(EVENT_CREATED),
            "Ticket Updates tab > New rule 'Deskguard: requester replies': When an action performed by 'Requester', "
            "involves the event 'Reply is sent', same conditions",
            f"Action 'Trigger webhook' as above (same URL and secret), with the body's event set to '{EVENT_REPLY}'",
            "API key: log in as the agent Deskguard writes as (needs to view and edit tickets and add private notes), "
            "Profile settings > View API key; install with --credential domain=<subdomain> --credential api_key=<key>",
            "Optional risk field: Admin > Workflows > Ticket Fields > add a single-line text field; "
            "pass its API name with --option custom_field=cf_<name>",
        ]


def _as_html(text: str) -> str:
    """A message as Freshdesk renders one: escaped, lines as <br>, wrapped in a <div>."""
    return "<div>" + "<br>".join(html.escape(line) for line in text.split("\n")) + "</div>"


ADAPTER = FreshdeskAdapter()
