"""Jira Service Management (Cloud): admin webhooks in, internal comments, labels and a field out.

Webhook (a Jira *admin* webhook: Settings > System > WebHooks, or POST /rest/webhooks/1.0/webhook)
- Signature: when the webhook has a secret, every delivery carries
  `X-Hub-Signature: sha256=<lower-case hex HMAC-SHA256(secret, raw request body)>` (the WebSub
  `method=signature` form). The bytes signed are exactly the raw HTTP body; no timestamp is signed and
  there is no timestamp header, so there is no freshness window (`timestamp_stale` never occurs);
  replays are caught by the delivery id below and by Deskguard's unchanged-text check. Only `sha256`
  is accepted. Webhooks registered by Connect/OAuth apps are not signed this way and are refused.
  Deskguard makes the secret (`signing_key_from = "deskguard"`); the admin pastes it into the
  webhook's Secret field (a secret made with Jira's "Generate secret" can be given with --secret).
- Delivery id: the `X-Atlassian-Webhook-Identifier` header, unique per delivery within the site and
  unchanged across Jira's retries. `X-Atlassian-Webhook-Retry` (the retry count) is informational.
  Jira retries on 408, 409, 425, 429, 5xx and connection failures/timeouts, for up to about 30 min.
  Only when the identifier is absent is the body's SHA-256 used (integrations.base.body_digest).
- Events used: `jira:issue_created` (the request's description is the customer's first message) and
  `comment_created` (a customer's comment). Ignored: every other event, including
  `jira:issue_updated` (a comment also raises it, but its text arrives as `comment_created`; field
  edits carry no new customer text); internal comments (`comment.jsdPublic` false, or the
  `sd.public.comment` property with `internal: true`, or a role/group `visibility`); comments by
  apps (`accountType` "app"); comments by anyone other than the request's reporter unless they are a
  JSM customer account (`accountType` "customer"), i.e. agents' replies; any text containing
  Deskguard's marker. Bodies arrive as strings (wiki markup, kept as text) or as Atlassian Document
  Format; ADF is read into plain text; nothing in either is fetched or followed.
- Payload: `{"timestamp", "webhookEvent", "issue_event_type_name", "user", "issue": {"id", "key",
  "fields": {"summary", "description", "reporter", "labels", "created", ...}}}`; a comment event adds
  `"comment": {"id", "author", "body", "created", "jsdPublic"}` and its issue carries only summary,
  status, priority, project, issuetype, assignee. Ref = the issue key.
- Requester: the reporter's (or customer commenter's) displayName, emailAddress and accountId.
  `emailAddress` may be hidden by the user's privacy settings: `complete()` then reads
  GET /rest/api/3/user?accountId=...; if still hidden the email stays empty. `authenticated` stays
  False: Jira does not mark a reporter as verified (agents can raise requests on a customer's behalf
  and the email channel trusts the From: header).
- Channel: the JSM issue property `request.channel.type` (email, portal, anonymousportal, api, jira,
  ...) when the payload carries `issue.properties` (admin webhooks do not document it), mapped
  email->email, portal/anonymousportal/jira->web, api->api; otherwise web.

REST API (base https://{site}.atlassian.net, HTTP basic auth with the account email and an API token;
a token "with scopes" needs --api-base-url https://api.atlassian.com/ex/jira/{cloudId} instead)
- complete(), comment events: GET /rest/servicedeskapi/request/{issueIdOrKey} (reporter and the
  description from `requestFieldValues`; 404 = not a service request -> ignored).
- Note: GET /rest/servicedeskapi/request/{issueIdOrKey}/comment?public=false&internal=true&start=N&limit=50
  (paged by start/limit until `isLastPage`, at most MAX_COMMENT_PAGES pages) to find an internal comment
  holding the note's marker; else POST the same path `{"body": note.text, "public": false}` (an
  internal comment; `body` is wiki-markup text, so the plain-text note is sent).
- Labels: PUT /rest/api/3/issue/{issueIdOrKey} `{"update": {"labels": [{"add": t}, ..., {"remove": t}]}}`
  (adding a present label or removing an absent one changes nothing, so it is safe to repeat).
- Field: PUT /rest/api/3/issue/{issueIdOrKey} `{"fields": {"customfield_NNNNN": level}}` for a
  "Short text (plain text only)" field (the admin guide's choice), or `{"value": level}` when the
  option custom_field_type=select (a single-select list with options low/medium/high/critical).
- check(): GET /rest/api/3/myself.

Vendor documentation used:
- https://developer.atlassian.com/cloud/jira/platform/webhooks/ (admin webhooks, secure admin
  webhooks / X-Hub-Signature, retry policy, X-Atlassian-Webhook-Identifier / -Retry, events, payloads)
- https://developer.atlassian.com/cloud/jira/service-desk/webhooks/
- https://community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554
- https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/ (get request; get/add comments)
- https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put
- https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
- https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-user-get
- https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
- https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from app.core.ticket import MAX_BODY_CHARS, MAX_MESSAGES, Message, Requester, Ticket
from integrations.base import AdapterBase, body_digest
from integrations.http import HelpdeskAPI, WriteBackError
from integrations.payload import is_deskguard_note, list_at, object_at, text_at
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
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
ISSUE_CREATED = "jira:issue_created"
COMMENT_CREATED = "comment_created"
CHANNEL_PROPERTY = "request.channel.type"
INTERNAL_PROPERTY = "sd.public.comment"
MAX_COMMENT_PAGES = 20
COMMENT_PAGE_SIZE = 50
MAX_ADF_NODES = 20_000
MAX_ADF_DEPTH = 64
_CHANNELS = {"email": "email", "portal": "web", "anonymousportal": "web", "jira": "web", "api": "api"}
_ADF_BLOCKS = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow", "mediaGroup"}
)
_FIELD_ID = re.compile(r"(?:customfield_)?(\d{1,18})")
_SITE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_CLOUD_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:atlassian\.net|jira\.com)")


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends for `body`."""
    return "sha256=" + hmac_hex(secret, body)


# --- reading bodies ------------------------------------------------------------------------------


def _adf_text(node: Any, parts: list[str], depth: int, budget: list[int]) -> None:
    """Append the visible text of one ADF node (and its children) to `parts`."""
    if depth > MAX_ADF_DEPTH:
        raise PayloadError("an Atlassian Document Format body is nested too deeply")
    if not isinstance(node, Mapping):
        raise PayloadError("an Atlassian Document Format node should be an object")
    budget[0] -= 1
    if budget[0] < 0:
        raise PayloadError("an Atlassian Document Format body has too many nodes")
    kind = text_at(node, "type")
    if kind == "text":
        parts.append(text_at(node, "text"))
    elif kind == "hardBreak":
        parts.append("\n")
    elif kind in ("mention", "emoji", "status", "date"):
        parts.append(text_at(node, "attrs.text"))
    elif kind in ("inlineCard", "blockCard", "embedCard"):
        parts.append(text_at(node, "attrs.url"))
    for child in list_at(node, "content"):
        _adf_text(child, parts, depth + 1, budget)
    if kind in _ADF_BLOCKS:
        parts.append("\n")


def body_text(value: Any, where: str) -> str:
    """A Jira rich-text value as plain text: a wiki-markup string as is, an ADF document read into text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        parts: list[str] = []
        _adf_text(value, parts, 0, [MAX_ADF_NODES])
        lines = (line.strip() for line in "".join(parts).splitlines())
        return "\n".join(line for line in lines if line)
    raise PayloadError(f"`{where}` should be text or an Atlassian document, not {type(value).__name__}")


def _when(value: str) -> datetime | None:
    """A Jira timestamp (2013-03-27T16:53:58.301+0000); None when it cannot be read."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _requester(user: Mapping[str, Any]) -> Requester:
    return Requester(
        external_id=text_at(user, "accountId")[:200],
        name=text_at(user, "displayName")[:300],
        email=text_at(user, "emailAddress")[:320],
    )


def _labels(fields: Mapping[str, Any]) -> list[str]:
    labels = list_at(fields, "labels")
    if not all(isinstance(label, str) for label in labels):
        raise PayloadError("`issue.fields.labels` should be a list of text")
    return [label[:100] for label in labels if label][:200]


def _channel(issue: Mapping[str, Any]) -> str:
    """The channel from the `request.channel.type` issue property, when the payload carries it."""
    properties = issue.get("properties")
    value: Any = None
    if isinstance(properties, Mapping):
        value = properties.get(CHANNEL_PROPERTY)
    elif isinstance(properties, list):
        value = next(
            (p.get("value") for p in properties if isinstance(p, Mapping) and p.get("key") == CHANNEL_PROPERTY), None
        )
    elif properties is not None:
        raise PayloadError("`issue.properties` should be an object or a list")
    kind = text_at(value, "value") if isinstance(value, Mapping) else ""
    return _CHANNELS.get(kind.lower(), "web")


def _is_internal(comment: Mapping[str, Any]) -> bool:
    """True for an internal JSM comment or one restricted to a role or group (only agents write those)."""
    public = comment.get("jsdPublic")
    if public is not None and not isinstance(public, bool):
        raise PayloadError("`comment.jsdPublic` should be true or false")
    if public is False or object_at(comment, "visibility"):
        return True
    for prop in list_at(comment, "properties"):
        if not isinstance(prop, Mapping):
            raise PayloadError("`comment.properties` should be a list of objects")
        if prop.get("key") == INTERNAL_PROPERTY and object_at(prop, "value").get("internal") is True:
            return True
    return False


def _ticket(**fields: Any) -> Ticket:
    try:
        return Ticket(**fields)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "(ticket)"
        raise PayloadError(f"the delivery does not make a valid ticket: {where}") from None


# --- the adapter ---------------------------------------------------------------------------------


class JiraServiceManagementAdapter(AdapterBase):
    provider = "jira_service_management"
    title = "Jira Service Management"
    credential_fields = (
        CredentialField("site", "your Jira Cloud site: <site> in https://<site>.atlassian.net", False, False),
        CredentialField("email", "the email of the Atlassian account (a service project agent)", True, False),
        CredentialField("api_token", "an API token of that account (id.atlassian.com > Security > API tokens)"),
    )
    signing_key_from = "deskguard"
    option_names = ("custom_field_type",)

    def base_url(self, credentials: Mapping[str, str]) -> str:
        site = credentials.get("site", "").strip().lower()
        site = re.sub(r"^https?://", "", site).split("/")[0]
        if _SITE.fullmatch(site):
            return f"https://{site}.atlassian.net"
        if _CLOUD_HOST.fullmatch(site):
            return f"https://{site}"
        return ""

    # -- inbound --

    def verify(self, request: InboundRequest, integration: IntegrationConfig, now: float) -> None:
        secret = require_secret(integration.secret)
        given = require_header(request.headers, SIGNATURE_HEADER)
        method, sep, digest = given.partition("=")
        if not sep or method.strip().lower() != "sha256":
            raise SignatureError("signature_invalid", f"{SIGNATURE_HEADER} should be sha256=<hex HMAC of the body>")
        if not same(hmac_hex(secret, request.body), digest.strip().lower()):
            raise SignatureError("signature_invalid", f"{SIGNATURE_HEADER} does not match the body and the secret")

    def delivery_id(self, request: InboundRequest, payload: Mapping[str, Any]) -> str:
        given = request.headers.get(DELIVERY_HEADER.lower(), "").strip()
        return given[:200] if given else body_digest(request.body)

    def parse(self, payload: Mapping[str, Any], integration: IntegrationConfig) -> Parsed:
        event = text_at(payload, "webhookEvent", required=True)
        if event not in (ISSUE_CREATED, COMMENT_CREATED):
            ref = text_at(payload, "issue.key")
            if event == "jira:issue_updated":
                return Parsed(ref, None, ignored="issue updates carry no new customer text (comments: comment_created)")
            return Parsed(ref, None, ignored=f"event {event[:60]!r} is not one Deskguard assesses")
        issue = object_at(payload, "issue", required=True)
        ref = text_at(issue, "key", required=True)
        if event == ISSUE_CREATED:
            return self._issue_created(ref, issue)
        return self._comment_created(ref, issue, object_at(payload, "comment", required=True))

    def _issue_created(self, ref: str, issue: Mapping[str, Any]) -> Parsed:
        fields = object_at(issue, "fields", required=True)
        subject = text_at(fields, "summary")
        description = body_text(fields.get("description"), "issue.fields.description")
        if is_deskguard_note(description) or is_deskguard_note(subject):
            return Parsed(ref, None, ignored="Deskguard's own text")
        requester = _requester(object_at(fields, "reporter"))
        messages = []
        if description:
            when = _when(text_at(fields, "created"))
            messages.append(Message(author="requester", body=description[:MAX_BODY_CHARS], created_at=when))
        ticket = _ticket(
            ticket_id=ref,
            channel=_channel(issue),
            subject=subject[:2_000],
            messages=messages,
            requester=requester,
            tags=_labels(fields),
        )
        lookup = {"account_id": requester.external_id} if requester.external_id and not requester.email else {}
        return Parsed(ref, ticket, lookup=lookup)

    def _comment_created(self, ref: str, issue: Mapping[str, Any], comment: Mapping[str, Any]) -> Parsed:
        body = body_text(comment.get("body"), "comment.body")
        if is_deskguard_note(body):
            return Parsed(ref, None, ignored="Deskguard's own note")
        if _is_internal(comment):
            return Parsed(ref, None, ignored="an internal comment")
        author = object_at(comment, "author")
        kind = text_at(author, "accountType")
        if kind == "app":
            return Parsed(ref, None, ignored="a comment by an app")
        if not body:
            return Parsed(ref, None, ignored="an empty comment")
        fields = object_at(issue, "fields")
        message = Message(author="requester", body=body[:MAX_BODY_CHARS], created_at=_when(text_at(comment, "created")))
        requester = _requester(author)
        ticket = _ticket(
            ticket_id=ref,
            channel=_channel(issue),
            subject=text_at(fields, "summary")[:2_000],
            messages=[message],
            requester=requester,
            tags=_labels(fields),
        )
        return Parsed(ref, ticket, lookup={"event": "comment", "author": requester.external_id, "author_type": kind})

    # -- completing thin events --

    def connect(self, integration: IntegrationConfig, http: httpx.Client) -> HelpdeskAPI:
        email = integration.credentials.get("email", "")
        token = integration.credentials.get("api_token", "")
        return HelpdeskAPI(integration.api_base_url, http, headers={"Accept": "application/json"}, auth=(email, token))

    def complete(self, parsed: Parsed, api: HelpdeskAPI) -> Parsed:
        ticket = parsed.ticket
        if ticket is None:
            return parsed
        try:
            if parsed.lookup.get("event") == "comment":
                return self._complete_comment(parsed, ticket, api)
            return self._with_email(parsed, ticket, api, parsed.lookup.get("account_id", ""))
        except PayloadError as exc:
            raise WriteBackError(f"unexpected answer from Jira: {exc.message}", retryable=False) from None

    def _complete_comment(self, parsed: Parsed, ticket: Ticket, api: HelpdeskAPI) -> Parsed:
        """Decide from the request's reporter whether the commenter is the customer; add the description."""
        ref = parsed.ref
        response = api.get(f"/rest/servicedeskapi/request/{quote(ref, safe='')}", ok_statuses=(404,))
        if response.status_code == 404:
            return Parsed(ref, None, ignored="not a Jira Service Management request")
        request = _json_object(response)
        reporter = object_at(request, "reporter")
        author = parsed.lookup.get("author", "")
        by_reporter = bool(author) and author == text_at(reporter, "accountId")
        if not by_reporter and parsed.lookup.get("author_type") != "customer":
            return Parsed(ref, None, ignored="a comment by someone other than the customer (an agent's reply)")
        messages = list(ticket.messages)
        requester = ticket.requester
        if by_reporter:
            description = _request_description(request)
            if description and not is_deskguard_note(description):
                messages.insert(0, Message(author="requester", body=description[:MAX_BODY_CHARS]))
            if not requester.email:
                email = text_at(reporter, "emailAddress")[:320]
                requester = requester.model_copy(update={"email": email})
        ticket = ticket.model_copy(update={"messages": messages[-MAX_MESSAGES:], "requester": requester})
        return self._with_email(parsed, ticket, api, author)

    def _with_email(self, parsed: Parsed, ticket: Ticket, api: HelpdeskAPI, account_id: str) -> Parsed:
        """The ticket, with the requester's email read from their Jira user when the event hid it."""
        if not ticket.requester.email and account_id:
            response = api.get("/rest/api/3/user", params={"accountId": account_id}, ok_statuses=(404,))
            if response.status_code != 404:
                email = text_at(_json_object(response), "emailAddress")[:320]
                requester = ticket.requester.model_copy(update={"email": email})
                ticket = ticket.model_copy(update={"requester": requester})
        return Parsed(parsed.ref, ticket, parsed.ignored, parsed.lookup)

    # -- write-back --

    def write_back(self, api: HelpdeskAPI, ref: str, note: Note, integration: IntegrationConfig) -> None:
        key = quote(ref, safe="")
        if not self._has_note(api, key, note.marker):
            api.post(f"/rest/servicedeskapi/request/{key}/comment", json={"body": note.text, "public": False})
        operations = [{"add": tag} for tag in note.tags]
        operations += [{"remove": tag} for tag in note.stale_tags if tag not in note.tags]
        if operations:
            api.put(f"/rest/api/3/issue/{key}", json={"update": {"labels": operations}})
        field = integration.options.get("custom_field")
        if field:
            value = _field_value(note.level, str(integration.options.get("custom_field_type", "text")))
            api.put(f"/rest/api/3/issue/{key}", json={"fields": {_field_id(str(field)): value}})

    def _has_note(self, api: HelpdeskAPI, key: str, marker: str) -> bool:
        """True when an internal comment on the request already holds `marker` (pages capped)."""
        start = 0
        for _ in range(MAX_COMMENT_PAGES):
            params = {"public": "false", "internal": "true", "start": start, "limit": COMMENT_PAGE_SIZE}
            page = _json_object(api.get(f"/rest/servicedeskapi/request/{key}/comment", params=params))
            values = page.get("values")
            if not isinstance(values, list):
                raise WriteBackError("Jira's comment list has no `values`", retryable=False)
            if any(isinstance(c, Mapping) and isinstance(c.get("body"), str) and marker in c["body"] for c in values):
                return True
            if page.get("isLastPage") is not False or not values:
                return False
            start += len(values)
        return False

    def check(self, api: HelpdeskAPI) -> str:
        me = _json_object(api.get("/rest/api/3/myself"))
        account = me.get("accountId")
        name = me.get("displayName")
        if not isinstance(account, str) or not account:
            raise WriteBackError("GET /rest/api/3/myself answered without an accountId", retryable=False)
        who = f"{name[:80]} " if isinstance(name, str) and name else ""
        return f"authenticated as {who}(account {account[:128]})"

    # -- samples and setup --

    def sample(self, integration: IntegrationConfig, ticket: Ticket, now: float) -> InboundRequest:
        body = json.dumps(_sample_payload(ticket, now), separators=(",", ":")).encode()
        timestamp = int(now * 1000)
        return InboundRequest(
            body=body,
            headers={
                "content-type": "application/json; charset=utf-8",
                SIGNATURE_HEADER.lower(): sign(integration.secret, body),
                DELIVERY_HEADER.lower(): f"sample-{zlib.crc32(body):08x}-{timestamp}",
            },
        )

    def setup_steps(self, integration: IntegrationConfig, webhook_url: str) -> list[str]:
        site = integration.api_base_url or "https://<site>.atlassian.net"
        return [
            f"As a Jira admin open {site}/plugins/servlet/webhooks (Settings > System > WebHooks) "
            "and choose 'Create a WebHook'",
            f"Name: Deskguard; Status: Enabled; URL: {webhook_url}",
            "Secret: paste the webhook secret Deskguard showed when this integration was added "
            "(`deskguard integrations secret <id>` makes a new one to paste)",
            "Events: Issue > created, and Comment > created (nothing else); in the JQL box limit the issues "
            "to your service project, e.g. project = HELP; leave 'Exclude body' unticked; Create",
            "Create an API token (id.atlassian.com > Security > Create and manage API tokens > Create API token) "
            "for an agent of that service project with Browse projects, Add comments and Edit issues permissions; "
            "give Deskguard site, email and api_token",
            "Optional: Settings > Work items (Issues) > Custom fields > Create custom field > Short text "
            "(plain text only) named 'Deskguard risk', add it to the request types' edit screen, and give "
            "Deskguard custom_field=customfield_<id> (the id is in the field's configure URL)",
        ]


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    """A 2xx answer's JSON object; anything else is a permanent error."""
    where = f"{response.request.method} {response.request.url.path}"
    try:
        value = response.json()
    except ValueError:
        raise WriteBackError(f"{where}: the answer is not JSON", retryable=False) from None
    if not isinstance(value, Mapping):
        raise WriteBackError(f"{where}: the answer is not a JSON object", retryable=False)
    return value


def _request_description(request: Mapping[str, Any]) -> str:
    """The `description` entry of a customer request's requestFieldValues, as text."""
    for item in list_at(request, "requestFieldValues"):
        if isinstance(item, Mapping) and item.get("fieldId") == "description":
            return body_text(item.get("value"), "requestFieldValues.description")
    return ""


def _field_id(option: str) -> str:
    match = _FIELD_ID.fullmatch(option.strip())
    if match is None:
        raise WriteBackError("the custom_field option must be customfield_<number> (or the number)", retryable=False)
    return f"customfield_{match.group(1)}"


def _field_value(level: str, kind: str) -> Any:
    if kind == "text":
        return level
    if kind == "select":
        return {"value": level}
    raise WriteBackError("the custom_field_type option must be text or select", retryable=False)


def _sample_payload(ticket: Ticket, now: float) -> dict[str, Any]:
    """A jira:issue_created body for `ticket`, shaped as Jira Cloud sends it."""
    texts = [m.body for _, m in ticket.requester_messages()]
    who = ticket.requester
    user: dict[str, Any] = {"displayName": who.name, "emailAddress": who.email, "active": True}
    if who.external_id:
        user |= {"accountId": who.external_id, "accountType": "customer"}
    created = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    ref = ticket.ticket_id
    return {
        "timestamp": int(now * 1000),
        "webhookEvent": ISSUE_CREATED,
        "issue_event_type_name": "issue_created",
        "user": user,
        "issue": {
            "id": ref if ref.isdigit() else str(10000 + zlib.crc32(ref.encode()) % 9_000_000),
            "key": ref,
            "fields": {
                "summary": ticket.subject,
                "description": texts[-1] if texts else None,
                "reporter": user,
                "labels": list(ticket.tags),
                "created": created,
                "updated": created,
                "issuetype": {"name": "Service Request"},
            },
        },
    }


ADAPTER = JiraServiceManagementAdapter()
