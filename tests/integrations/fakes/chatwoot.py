"""A fake of Chatwoot's application API (https://developers.chatwoot.com/api-reference) for exactly the
calls the adapter makes.

`api_access_token` header auth (wrong or missing: 401 `{"error": "Invalid Access Token"}`), one
account (another account id: 401), conversations by display id with their messages (the latest 20,
older pages with `?before=<id>`, as Chatwoot's MessageFinder), labels (a POST replaces the list) and
custom attributes (a POST replaces the hash, Chatwoot's default).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from tests.integrations.fakeserver import FakeHelpdesk, Handler, Recorded, Reply

PROVIDER = "chatwoot"
TOKEN = "chatwoot-test-token-1"
ACCOUNT = "7"
FIELD = "deskguard_risk"
OTHER_FIELD = "order_id"  # an attribute Deskguard must not erase
CREDENTIALS: dict[str, str] = {"api_access_token": TOKEN, "account_id": ACCOUNT}
OPTIONS: dict[str, str] = {"custom_field": FIELD}
NOTE_REQUEST = r"POST /api/v1/accounts/[^/]+/conversations/[^/]+/messages"
PAGE = 20
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # oldest first
        self._seq = 1000
        self._routes()

    # --- the contract -----------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        with self.lock:
            self.conversations[ref] = {
                "id": int(ref) if ref.isdigit() else ref,
                "account_id": int(ACCOUNT),
                "status": "open",
                "labels": list(ticket.tags),
                "custom_attributes": {OTHER_FIELD: "12345"},
                "meta": {
                    "sender": {
                        "id": 14,
                        "name": ticket.requester.name,
                        "email": ticket.requester.email or None,
                        "phone_number": ticket.requester.phone or None,
                        "type": "contact",
                    }
                },
            }
            self.messages.setdefault(ref, [])
            for message in ticket.messages:
                kind = "incoming" if message.author == "requester" else "outgoing"
                self._store(ref, message.body, kind, private=False)

    def notes(self, ref: str) -> list[str]:
        return [m["content"] for m in self.messages.get(ref, []) if m["private"]]

    def tags(self, ref: str) -> set[str]:
        return set(self.conversations.get(ref, {}).get("labels", []))

    def field_value(self, ref: str) -> str | None:
        value = self.conversations.get(ref, {}).get("custom_attributes", {}).get(FIELD)
        return None if value is None else str(value)

    # --- helpers ----------------------------------------------------------------------------

    def add_messages(self, ref: str, count: int, kind: str = "incoming") -> None:
        with self.lock:
            for i in range(count):
                self._store(ref, f"message {i}", kind, private=False)

    def _store(self, ref: str, content: str, kind: str, *, private: bool) -> dict[str, Any]:
        self._seq += 1
        message = {
            "id": self._seq,
            "content": content,
            "account_id": int(ACCOUNT),
            "conversation_id": self.conversations[ref]["id"],
            "message_type": MESSAGE_TYPES[kind],
            "created_at": 1700000000 + self._seq,
            "private": private,
            "status": "sent",
            "content_type": "text",
            "sender_type": "User" if kind == "outgoing" else "Contact",
        }
        self.messages[ref].append(message)
        return message

    def _authed(self, method: str, pattern: str) -> Any:
        """Register a route that answers 401 unless the token and the account are right."""

        def register(handler: Handler) -> Handler:
            def guarded(rec: Recorded, match: re.Match[str]) -> Reply:
                if rec.headers.get("api_access_token") != TOKEN:
                    return Reply(401, {"error": "Invalid Access Token"})
                if "acc" in match.groupdict() and match["acc"] != ACCOUNT:
                    return Reply(401, {"error": "You are not authorized to access this account"})
                return handler(rec, match)

            self.route(method, pattern)(guarded)
            return handler

        return register

    def _find(self, match: re.Match[str]) -> tuple[str, dict[str, Any]] | None:
        ref = unquote(match["cid"])
        conversation = self.conversations.get(ref)
        return None if conversation is None else (ref, conversation)

    # --- routes -----------------------------------------------------------------------------

    def _routes(self) -> None:
        conv = r"/api/v1/accounts/(?P<acc>[^/]+)/conversations/(?P<cid>[^/]+)"
        missing = Reply(404, {"error": "Resource could not be found"})

        @self._authed("GET", r"/api/v1/profile")
        def profile(rec: Recorded, match: re.Match[str]) -> Reply:
            return Reply(
                200,
                {
                    "id": 3,
                    "name": "Deskguard Bot",
                    "email": "bot@example.test",
                    "role": "agent",
                    "accounts": [{"id": int(ACCOUNT), "name": "Acme", "role": "agent"}],
                },
            )

        @self._authed("GET", conv)
        def show(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            return Reply(200, dict(found[1]))

        @self._authed("GET", conv + r"/messages")
        def list_messages(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            items = self.messages[found[0]]
            if "before" in rec.query:
                before = int(rec.query["before"][0])
                items = [m for m in items if m["id"] < before]
            return Reply(200, {"meta": {"labels": found[1]["labels"]}, "payload": items[-PAGE:]})

        @self._authed("POST", conv + r"/messages")
        def create_message(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            body = rec.json()
            if not isinstance(body, dict) or not isinstance(body.get("content"), str) or not body["content"]:
                return Reply(422, {"error": "content is required"})
            if body.get("message_type", "outgoing") not in ("outgoing", "incoming"):
                return Reply(422, {"error": "message_type is invalid"})
            private = body.get("private") is True
            return Reply(
                200, self._store(found[0], body["content"], body.get("message_type", "outgoing"), private=private)
            )

        @self._authed("GET", conv + r"/labels")
        def list_labels(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            return Reply(200, {"payload": list(found[1]["labels"])})

        @self._authed("POST", conv + r"/labels")
        def set_labels(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            labels = rec.json().get("labels") if isinstance(rec.json(), dict) else None
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                return Reply(422, {"error": "labels must be a list of names"})
            found[1]["labels"] = list(dict.fromkeys(labels))  # replaces the list
            return Reply(200, {"payload": found[1]["labels"]})

        @self._authed("POST", conv + r"/custom_attributes")
        def set_attributes(rec: Recorded, match: re.Match[str]) -> Reply:
            found = self._find(match)
            if found is None:
                return missing
            attributes = rec.json().get("custom_attributes") if isinstance(rec.json(), dict) else None
            if not isinstance(attributes, dict):
                return Reply(422, {"error": "custom_attributes is required"})
            found[1]["custom_attributes"] = dict(attributes)  # replaces the hash
            return Reply(200, {"custom_attributes": found[1]["custom_attributes"]})
