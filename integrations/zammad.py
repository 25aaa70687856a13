"""Zammad (self-hosted): trigger webhooks in, internal notes, tags and an object attribute out.

Inbound (Manage > Webhook, fired by a trigger's "Webhook" action; default payload, not custom)
    Signature: when the webhook has an "HMAC SHA1 Signature Token", every request carries
    `X-Hub-Signature: sha1=<lower-case hex HMAC-SHA1(token, raw request body)>` (Zammad's
    UserAgent.set_signature signs exactly the JSON body bytes it sends). Deskguard makes the token
    (signing_key_from "deskguard"); the admin pastes it into the webhook. Zammad sends no timestamp,
    so there is no replay window and never `timestamp_stale`. Missing header: `signature_missing`;
    mismatch or a value without the `sha1=` prefix: `signature_invalid`; no secret on the
    integration: `secret_invalid`. Compared with hmac.compare_digest.

    Other headers: `X-Zammad-Delivery` (a unique random id per delivery, the background job's id,
    kept when Zammad retries the same job) is the delivery id; `X-Zammad-Trigger` names the
    trigger; `User-Agent: Zammad User Agent`. Without X-Zammad-Delivery the body's SHA-256 is used.

    Payload: {"ticket": {...}, "article": {...}}. `ticket.id` is the ticket's id (the API's, not
    its `number`), `ticket.title` the subject, `ticket.customer` the customer (firstname, lastname,
    email, phone, mobile, id). `article` is the article that fired the trigger, `{}` when a ticket
    changed without a new article: `body` (HTML when `content_type` is text/html), `internal`,
    `sender` ("Customer", "Agent" or "System"), `type` (email, phone, web, chat, sms, note, ...).
    Only public articles with sender Customer are assessed; internal articles, Agent/System articles,
    deliveries without an article and any text carrying Deskguard's marker are ignored. The payload
    holds only the triggering article (earlier articles are ids in `ticket.article_ids`). Zammad's
    user `verified` flag records a confirmed sign-up email, not a signed-in sender, so
    `authenticated` is always False.

Outbound (REST API, api_base_url given explicitly; `Authorization: Token token=<access token>`):
    - existing notes: GET /api/v1/ticket_articles/by_ticket/{id} (one unpaginated list); an article
      whose body contains the marker means the note was already written;
    - note: POST /api/v1/ticket_articles {"ticket_id", "body": <html>, "content_type": "text/html",
      "type": "note", "internal": true};
    - tags: GET /api/v1/tags?object=Ticket&o_id={id}, then POST /api/v1/tags/add and DELETE
      /api/v1/tags/remove with {"item", "object": "Ticket", "o_id"} only for what differs (both calls
      are idempotent in Zammad as well);
    - field: option `custom_field` is a ticket object attribute's name; PUT /api/v1/tickets/{id}
      {"<name>": "<level>"};
    - check: GET /api/v1/users/me.

Vendor documentation used:
    https://admin-docs.zammad.org/en/latest/manage/webhook/add.html (HMAC SHA1 Signature Token)
    https://admin-docs.zammad.org/en/latest/manage/webhook/payload.html (headers, default payload)
    https://admin-docs.zammad.org/en/latest/manage/trigger/how-do-they-work.html (activators)
    https://docs.zammad.org/en/latest/api/intro.html (token authentication)
    https://docs.zammad.org/en/latest/api/ticket/articles.html, .../api/ticket/tags.html,
        .../api/ticket/index.html (update), .../api/user.html (me)
    Zammad source, lib/user_agent.rb (set_signature: "sha1=" + OpenSSL::HMAC.hexdigest('sha1', token, body))
    and app/jobs/trigger_webhook_job.rb (X-Zammad-Delivery is the job id).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, Message, Requester, Ticket
from app.core.vocabulary import Channel
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import html_to_text, is_deskguard_note, object_at, tags_of, text_at
from integrations.protocol import (
    CredentialField,
    InboundRequest,
    IntegrationConfig,
    Note,
    Parsed,
    PayloadError,
    SignatureError,
)
from integrations.signing import hmac_hex, require_header, require_secret, same

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Zammad-Delivery"
TRIGGER_HEADER = "X-Zammad-Trigger"
SAMPLE_TRIGGER = "Deskguard"

_TYPE_CHANNEL: dict[str, Channel] = {
    "email": "email",
    "web": "web",
    "phone": "phone",
    "sms": "phone",
    "fax": "phone",
    "chat": "chat",
    "note": "api",
    "twitter status": "social",
    "twitter direct-message": "social",
    "facebook feed post": "social",
    "facebook feed comment": "social",
    "facebook direct-message": "social",
    "telegram personal-message": "social",
    "whatsapp message": "social",
}
_CHANNEL_TYPE = {"email": "email", "web": "web", "phone": "phone", "chat": "chat", "social": "whatsapp message"}


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Zammad sends for `body`."""
    return "sha1=" + hmac_hex(secret, body, "sha1")


def _id_value(ref: str) -> int | str:
    """Zammad ids are integers in JSON; a non-numeric ref is passed through as text."""
    return int(ref) if ref.isdigit() and len(ref) < 19 else ref


def _channel(article_type: str) -> Channel:
    if not article_type:
        return "email"
    return _TYPE_CHANNEL.get(article_type.strip().lower(), "web")


def _article_text(article: Mapping[str, Any]) -> str:
    body = text_at(article, "body")
    if "html" in text_at(article, "content_type").lower():
        body = html_to_text(body)
    return body.strip()[:MAX_BODY_CHARS]


def _flag(article: Mapping[str, Any], key: str) -> bool:
    value = article.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PayloadError(f"`article.{key}` should be true or false")
    return value


def _requester(ticket: Mapping[str, Any]) -> Requester:
    customer = object_at(ticket, "customer")
    name = " ".join(p for p in (text_at(customer, "firstname"), text_at(customer, "lastname")) if p.strip())
    return Requester(
        external_id=(text_at(customer, "id") or text_at(ticket, "customer_id"))[:200],
        name=name.strip()[:300],
        email=text_at(customer, "email").strip()[:320],
        phone=(text_at(customer, "phone") or text_at(customer, "mobile")).strip()[:64],
        authenticated=False,
    )


def _ignored_article(article: Mapping[str, Any]) -> str:
    """Why an article is not new requester text ("" when it is)."""
    if not article:
        return "no new article (a ticket change only)"
    if _flag(article, "internal"):
        return "an internal article"
    if text_at(article, "sender").strip().lower() != "customer":
        return "an article not sent by the customer (Agent or System)"
    return ""


def _token(integration: IntegrationConfig) -> str:
    token = str(integration.credentials.get("token", "")).strip()
    if not token:
        raise WriteBackError("the Zammad integration has no token credential", retryable=False)
    return token


class ZammadAdapter(AdapterBase):
    provider = "zammad"
    title = "Zammad"
    credential_fields = (
        CredentialField("token", "Access token of the agent Deskguard writes as (Profile > Token Access)"),
    )
    signing_key_from = "deskguard"
    option_names = ()

    def base_url(self, credentials: Mapping[str, str]) -> str:
        """Zammad is self-hosted: the API base URL is always given with --api-base-url."""
        return ""

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        if not given.lower().startswith("sha1="):
            raise SignatureError("signature_invalid", f"{SIGNATURE_HEADER} is not of the form sha1=<hex>")
        if not same(sign(secret, request.body), "sha1=" + given[5:].strip().lower()):
            raise SignatureError("signature_invalid", f"{SIGNATURE_HEADER} does not match the body and the token")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        given = request.headers.get(DELIVERY_HEADER.lower(), "").strip()
        return given[:200] if given else body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        ticket = object_at(payload, "ticket", required=True)
        ref = text_at(ticket, "id", required=True).strip()
        if not ref or len(ref) > 200:
            raise PayloadError("`ticket.id` is empty or too long")
        article = object_at(payload, "article")
        article_ticket = text_at(article, "ticket_id")
        if article_ticket and article_ticket != ref:
            raise PayloadError("`article.ticket_id` is not `ticket.id`")
        why = _ignored_article(article)
        if why:
            return Parsed(ref, None, ignored=why)
        body = _article_text(article)
        if is_deskguard_note(body):
            return Parsed(ref, None, ignored="text containing Deskguard's own note marker")
        try:
            normalized = Ticket(
                ticket_id=ref,
                channel=_channel(text_at(article, "type")),
                subject=text_at(ticket, "title")[:2_000],
                messages=[Message(author="requester", body=body)],
                requester=_requester(ticket),
                tags=tags_of(ticket.get("tags")),
            )
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "(root)"
            raise PayloadError(f"the ticket cannot be read: {where}") from None
        return Parsed(ref, normalized)

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        return HelpdeskAPI(
            integration.api_base_url,
            http,
            headers={"Authorization": f"Token token={_token(integration)}", "Accept": "application/json"},
        )

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        if not self._has_note(api, ref, note.marker):
            api.post(
                "/api/v1/ticket_articles",
                json={
                    "ticket_id": _id_value(ref),
                    "body": note.html,
                    "content_type": "text/html",
                    "type": "note",
                    "internal": True,
                },
            )
        self._set_tags(api, ref, note)
        field = str(integration.options.get("custom_field", "") or "").strip()
        if field:
            api.put(f"/api/v1/tickets/{quote(ref, safe='')}", json={field: note.level})

    def _has_note(self, api: HelpdeskAPI, ref: str, marker: str) -> bool:
        """Whether an article of the ticket carries `marker` (the endpoint returns one list, unpaginated)."""
        articles = api.json("GET", f"/api/v1/ticket_articles/by_ticket/{quote(ref, safe='')}")
        if not isinstance(articles, list):
            raise WriteBackError("Zammad answered the article list with something other than a list", retryable=False)
        return any(isinstance(a, Mapping) and isinstance(a.get("body"), str) and marker in a["body"] for a in articles)

    def _set_tags(self, api: HelpdeskAPI, ref: str, note: Note) -> None:
        """Add Deskguard's tags the ticket lacks and remove the stale ones it has."""
        listed = api.json("GET", "/api/v1/tags", params={"object": "Ticket", "o_id": ref})
        tags = listed.get("tags") if isinstance(listed, Mapping) else None
        if not isinstance(tags, list):
            raise WriteBackError("Zammad answered the tag list without a `tags` list", retryable=False)
        current = {str(t) for t in tags}
        for tag in note.tags:
            if tag not in current:
                api.post("/api/v1/tags/add", json={"item": tag, "object": "Ticket", "o_id": _id_value(ref)})
        for tag in note.stale_tags:
            if tag in current:
                api.delete("/api/v1/tags/remove", json={"item": tag, "object": "Ticket", "o_id": _id_value(ref)})

    def check(self, api: HelpdeskAPI) -> str:
        me = api.json("GET", "/api/v1/users/me")
        if not isinstance(me, Mapping):
            raise WriteBackError("Zammad answered /users/me with something other than a JSON object", retryable=False)
        return f"authenticated as user {str(me.get('id', '?'))[:40]}"

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        """The default payload for `ticket`'s last requester message, signed as Zammad signs it."""
        said = [m.body for _, m in ticket.requester_messages()]
        first, _, last = ticket.requester.name.partition(" ")
        ref = _id_value(ticket.ticket_id)
        customer = {
            "id": _id_value(ticket.requester.external_id) if ticket.requester.external_id else "",
            "firstname": first,
            "lastname": last,
            "email": ticket.requester.email,
            "login": ticket.requester.email,
            "phone": ticket.requester.phone,
            "roles": ["Customer"],
            "verified": False,
        }
        article_type = _CHANNEL_TYPE.get(ticket.channel, "note")
        payload = {
            "ticket": {
                "id": ref,
                "title": ticket.subject,
                "customer": customer,
                "create_article_sender": "Customer",
                "create_article_type": article_type,
                "tags": list(ticket.tags),
            },
            "article": {
                "ticket_id": ref,
                "body": said[-1] if said else "",
                "content_type": "text/plain",
                "internal": False,
                "sender": "Customer",
                "type": article_type,
                "from": f"{ticket.requester.name} <{ticket.requester.email}>".strip(),
            },
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return InboundRequest(
            body=body,
            headers={
                "content-type": "application/json; charset=utf-8",
                "user-agent": "Zammad User Agent",
                TRIGGER_HEADER.lower(): SAMPLE_TRIGGER,
                DELIVERY_HEADER.lower(): str(uuid.uuid4()),
                SIGNATURE_HEADER.lower(): sign(integration.secret, body),
            },
        )

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        return [
            "Zammad: Settings > System > API: enable 'API Token Access'",
            "As the agent Deskguard writes as: Avatar > Profile > Token Access > Create, permission ticket.agent; "
            "install with --credential token=<token> --api-base-url https://<your zammad host>",
            f"Settings > Manage > Webhook > New Webhook: Name 'Deskguard', Endpoint {webhook_url}, "
            "HMAC SHA1 Signature Token = the integration secret, SSL verification yes, Custom Payload off, Active",
            "Settings > Manage > Trigger > New Trigger 'Deskguard': Activated by Action, Selective",
            "Conditions: Article > Sender is Customer, and Article > Visibility is public",
            "Action: Notification > Webhook > 'Deskguard'; Active yes; Submit",
            "Optional risk field: Settings > System > Objects > Ticket > New attribute (Text field, e.g. "
            "deskguard_risk), Update database; then --option custom_field=deskguard_risk",
        ]


ADAPTER = ZammadAdapter()
