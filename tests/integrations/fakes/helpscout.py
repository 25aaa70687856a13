"""A fake of Help Scout's Inbox API 2.0 (https://developer.helpscout.com/mailbox-api/) for exactly the
calls the adapter makes.

``POST /v2/oauth2/token`` issues bearer tokens for the client-credentials grant (JSON, form or query
parameters, as documented; a wrong App ID/Secret gets 401 ``invalid_client``); every other route needs
one of those tokens (else 401). State: conversations with their threads (listed newest first, 50 a
page, as documented), tags (PUT replaces the list) and custom fields (PUT replaces them all: a field
left out of the request is removed), customers with their emails and phones, and one mailbox field
definition besides Deskguard's so that an erased value shows.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from app.core.ticket import Ticket
from integrations.payload import html_to_text
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "helpscout"
APP_ID = "helpscout-app-id-1"
APP_SECRET = "helpscout-app-secret-1"
FIELD_ID = 6688
OTHER_FIELD_ID = 6689  # "Account Type": a dropdown Deskguard must not erase
OTHER_FIELD_OPTION = "33077"
CREDENTIALS: dict[str, str] = {"app_id": APP_ID, "app_secret": APP_SECRET}
OPTIONS: dict[str, str] = {"custom_field": str(FIELD_ID)}
NOTE_REQUEST = r"POST /v2/conversations/[^/]+/notes"
PAGE_SIZE = 50
USER = {"id": 256, "firstName": "Mr", "lastName": "Robot", "email": "none@nowhere.com", "role": "owner", "type": "user"}


def _body(rec: Recorded) -> dict[str, Any]:
    """The request's parameters, sent as JSON, as a form, or as query parameters."""
    if rec.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(rec.body.decode("utf-8", "replace")).items()}
    try:
        value = rec.json()
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    return {k: v[0] for k, v in rec.query.items()}


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.field_ids = {FIELD_ID, OTHER_FIELD_ID}
        self._ids = itertools.count(1000)
        self._routes()

    # --- the contract -------------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        external = ticket.requester.external_id
        customer_id = int(external) if external.isdigit() else external or next(self._ids)
        first, _, last = ticket.requester.name.partition(" ")
        person = {"id": customer_id, "first": first, "last": last, "email": ticket.requester.email}
        with self.lock:
            self.customers[str(customer_id)] = {
                "id": customer_id,
                "firstName": first,
                "lastName": last,
                "_embedded": {
                    "emails": [{"id": 1, "value": ticket.requester.email, "type": "work"}]
                    if ticket.requester.email
                    else [],
                    "phones": [{"id": 2, "value": ticket.requester.phone, "type": "work"}]
                    if ticket.requester.phone
                    else [],
                },
            }
            threads = [self._thread(m.author, m.body, person) for m in ticket.messages if m.author != "system"]
            self.conversations[ref] = {
                "id": int(ref) if ref.isdigit() else ref,
                "subject": ticket.subject,
                "type": "email",
                "primaryCustomer": {**person, "type": "customer"},
                "threads": threads,  # oldest first
                "tags": list(ticket.tags),
                "fields": {OTHER_FIELD_ID: OTHER_FIELD_OPTION},
            }

    def notes(self, ref: str) -> list[str]:
        with self.lock:
            threads = self.conversations.get(ref, {}).get("threads", [])
            return [html_to_text(t["body"]) for t in threads if t["type"] == "note"]

    def tags(self, ref: str) -> set[str]:
        with self.lock:
            return set(self.conversations.get(ref, {}).get("tags", []))

    def field_value(self, ref: str) -> str | None:
        with self.lock:
            return self.conversations.get(ref, {}).get("fields", {}).get(FIELD_ID)

    def fields(self, ref: str) -> dict[int, str]:
        with self.lock:
            return dict(self.conversations.get(ref, {}).get("fields", {}))

    # --- state helpers (called with the lock held) ---------------------------------------------

    def _thread(self, role: str, body: str, person: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        if role == "requester":
            kind, created_by = "customer", {**person, "type": "customer"}
        elif role == "note":
            kind, created_by = "note", {"id": USER["id"], "type": "user", "first": "Mr", "last": "Robot"}
        else:
            kind, created_by = "message", {"id": USER["id"], "type": "user", "first": "Mr", "last": "Robot"}
        return {
            "id": number,
            "type": kind,
            "status": "active",
            "state": "published",
            "body": body,
            "source": {
                "type": "email" if kind != "note" else "api",
                "via": "customer" if kind == "customer" else "user",
            },
            "customer": dict(person),
            "createdBy": created_by,
            "createdAt": f"2024-06-27T12:{number % 60:02d}:00Z",
        }

    def _view(self, convo: dict[str, Any]) -> dict[str, Any]:
        """The conversation as GET /v2/conversations/{id} returns it (without threads: no embed)."""
        return {
            "id": convo["id"],
            "number": convo["id"],
            "threads": len(convo["threads"]),
            "type": convo["type"],
            "status": "active",
            "state": "published",
            "subject": convo["subject"],
            "mailboxId": 85,
            "primaryCustomer": convo["primaryCustomer"],
            "tags": [{"id": i, "color": "#929499", "tag": t} for i, t in enumerate(convo["tags"], start=1)],
            "customFields": [
                {"id": fid, "name": f"Field {fid}", "value": value, "text": value}
                for fid, value in convo["fields"].items()
            ],
            "_links": {"threads": {"href": f"{self.base_url}/v2/conversations/{convo['id']}/threads"}},
        }

    # --- routes -------------------------------------------------------------------------------

    def _routes(self) -> None:
        conversation = r"/v2/conversations/(?P<cid>[^/]+)"

        def guarded(handler: Any) -> Any:
            def run(rec: Recorded, match: re.Match[str]) -> Reply:
                token = rec.headers.get("authorization", "").removeprefix("Bearer ")
                if token not in self.tokens:
                    return Reply(401, {"error": "Unauthorized", "message": "Invalid access token"})
                return handler(rec, match)

            return run

        def found(match: re.Match[str]) -> dict[str, Any] | None:
            return self.conversations.get(unquote(match.group("cid")))

        missing = Reply(404, {"error": "Not Found", "message": "Conversation not found"})

        @self.route("POST", "/v2/oauth2/token")
        def token(rec: Recorded, match: re.Match[str]) -> Reply:
            grant = _body(rec)
            if grant.get("grant_type") != "client_credentials":
                return Reply(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
            if grant.get("client_id") != APP_ID or grant.get("client_secret") != APP_SECRET:
                return Reply(401, {"error": "invalid_client", "error_description": "Invalid client authentication"})
            issued = f"hs-token-{next(self._ids)}"
            self.tokens.add(issued)
            return Reply(200, {"token_type": "bearer", "access_token": issued, "expires_in": 172800})

        @self.route("GET", "/v2/users/me")
        @guarded
        def me(rec: Recorded, match: re.Match[str]) -> Reply:
            return Reply(200, USER)

        @self.route("GET", conversation)
        @guarded
        def get_conversation(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            return missing if convo is None else Reply(200, self._view(convo))

        @self.route("GET", conversation + "/threads")
        @guarded
        def list_threads(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return missing
            page = int((rec.query.get("page") or ["1"])[0])
            newest_first = list(reversed(convo["threads"]))
            chunk = newest_first[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            pages = max(1, -(-len(newest_first) // PAGE_SIZE))
            return Reply(
                200,
                {
                    "_embedded": {"threads": chunk},
                    "page": {
                        "size": PAGE_SIZE,
                        "totalElements": len(newest_first),
                        "totalPages": pages,
                        "number": page,
                    },
                },
            )

        @self.route("POST", conversation + "/notes")
        @guarded
        def create_note(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return missing
            text = _body(rec).get("text")
            if not isinstance(text, str) or not text:
                return Reply(400, {"message": "Validation error", "_embedded": {"errors": [{"path": "text"}]}})
            if len(convo["threads"]) >= 100:
                return Reply(412, {"message": "Conversation is locked: it has the maximum number of threads"})
            thread = self._thread("note", text, dict(convo["primaryCustomer"]))
            convo["threads"].append(thread)
            return Reply(201, None, {"Resource-ID": str(thread["id"])})

        @self.route("PUT", conversation + "/tags")
        @guarded
        def update_tags(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return missing
            tags = _body(rec).get("tags")
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                return Reply(400, {"message": "Validation error", "_embedded": {"errors": [{"path": "tags"}]}})
            convo["tags"] = list(dict.fromkeys(tags))
            return Reply(204)

        @self.route("PUT", conversation + "/fields")
        @guarded
        def update_fields(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return missing
            fields = _body(rec).get("fields")
            if not isinstance(fields, list):
                return Reply(400, {"message": "Validation error", "_embedded": {"errors": [{"path": "fields"}]}})
            replaced: dict[int, str] = {}
            for field in fields:
                if not isinstance(field, dict) or field.get("id") not in self.field_ids:
                    return Reply(400, {"message": "Validation error", "_embedded": {"errors": [{"path": "fields"}]}})
                replaced[int(field["id"])] = str(field.get("value", ""))
            convo["fields"] = replaced
            return Reply(204)

        @self.route("GET", r"/v2/customers/(?P<id>[^/]+)")
        @guarded
        def get_customer(rec: Recorded, match: re.Match[str]) -> Reply:
            customer = self.customers.get(unquote(match.group("id")))
            if customer is None:
                return Reply(404, {"error": "Not Found", "message": "Customer not found"})
            return Reply(200, customer)
