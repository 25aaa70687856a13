"""A fake of Intercom's REST API (https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io)
for exactly the calls the adapter makes.

Bearer-token auth on every route: a wrong or missing token gets Intercom's 401 ``error.list`` with code
``unauthorized`` ("Access Token Invalid"). State: conversations (source, parts oldest first, applied
tags, custom attributes), the workspace's tags by id (``POST /tags`` finds a name case-insensitively
before creating one, as documented), and contacts. Replies and tag calls check ``admin_id`` the way
Intercom does (missing: 400 ``parameter_not_found``; unknown: 404 ``admin_not_found``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from integrations.intercom import sample_contact_id
from integrations.payload import html_to_text
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "intercom"
TOKEN = "intercom-test-token-1"
ADMIN_ID = "991267596"
FIELD = "deskguard_risk"
OTHER_FIELD = "issue_type"  # an attribute Deskguard must leave alone
CREDENTIALS: dict[str, str] = {"access_token": TOKEN, "admin_id": ADMIN_ID}
OPTIONS: dict[str, str] = {"custom_field": FIELD}
NOTE_REQUEST = r"POST /conversations/[^/]+/reply"
START = 1_719_492_849


def error(status: int, code: str, message: str) -> Reply:
    """Intercom's error body: {"type": "error.list", "request_id", "errors": [{"code", "message"}]}."""
    body = {"type": "error.list", "request_id": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]}
    return Reply(status, body)


def _json(rec: Recorded) -> dict[str, Any]:
    try:
        value = rec.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.tag_store: dict[str, str] = {}  # tag id -> name
        self.admins = {ADMIN_ID: {"type": "admin", "id": ADMIN_ID, "name": "Ciaran Lee", "email": "admin@example.com"}}
        self._seq = 100
        self._routes()

    # --- the contract -------------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        contact_id = sample_contact_id(ticket)
        author = {"type": "user", "id": contact_id, "name": ticket.requester.name, "email": ticket.requester.email}
        with self.lock:
            self.contacts[contact_id] = {
                "type": "contact",
                "id": contact_id,
                "role": "user",
                "external_id": ticket.requester.external_id or None,
                "name": ticket.requester.name,
                "email": ticket.requester.email,
                "phone": ticket.requester.phone or None,
            }
            messages = ticket.messages
            source_body = f"<p>{messages[0].body}</p>" if messages else ""
            parts = [self._part("comment", f"<p>{m.body}</p>", self._author(m.author, author)) for m in messages[1:]]
            self.conversations[ref] = {
                "id": ref,
                "source": {"type": "email", "subject": ticket.subject, "body": source_body, "author": author},
                "contact_id": contact_id,
                "parts": parts,
                "tag_ids": [self._tag_named(name) for name in ticket.tags],
                "custom_attributes": {OTHER_FIELD: "Billing"},
            }

    def notes(self, ref: str) -> list[str]:
        with self.lock:
            parts = self.conversations.get(ref, {}).get("parts", [])
            return [html_to_text(p["body"]) for p in parts if p["part_type"] == "note"]

    def tags(self, ref: str) -> set[str]:
        with self.lock:
            return {self.tag_store[t] for t in self.conversations.get(ref, {}).get("tag_ids", [])}

    def field_value(self, ref: str) -> str | None:
        with self.lock:
            value = self.conversations.get(ref, {}).get("custom_attributes", {}).get(FIELD)
            return None if value is None else str(value)

    def custom_attributes(self, ref: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.conversations.get(ref, {}).get("custom_attributes", {}))

    # --- state helpers (called with the lock held) ---------------------------------------------

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    def _tag_named(self, name: str) -> str:
        for tag_id, existing in self.tag_store.items():
            if existing.lower() == name.lower():
                return tag_id
        tag_id = self._next()
        self.tag_store[tag_id] = name
        return tag_id

    def _author(self, role: str, requester: dict[str, Any]) -> dict[str, Any]:
        if role == "requester":
            return requester
        if role == "agent":
            return {"type": "admin", "id": ADMIN_ID, "name": "Ciaran Lee", "email": "admin@example.com"}
        return {"type": "bot", "id": "1", "name": "Operator", "email": ""}

    def _part(self, part_type: str, body: str, author: dict[str, Any]) -> dict[str, Any]:
        created = START + self._seq
        return {
            "type": "conversation_part",
            "id": self._next(),
            "part_type": part_type,
            "body": body,
            "created_at": created,
            "updated_at": created,
            "notified_at": created,
            "assigned_to": None,
            "author": author,
            "attachments": [],
            "external_id": None,
            "redacted": False,
        }

    def _view(self, conversation: dict[str, Any]) -> dict[str, Any]:
        """The conversation as GET /conversations/{id} returns it (the 500 most recent parts)."""
        parts = conversation["parts"][-500:]
        return {
            "type": "conversation",
            "id": conversation["id"],
            "created_at": START,
            "updated_at": START + self._seq,
            "source": {**conversation["source"], "id": "403918269", "delivered_as": "customer_initiated"},
            "contacts": {
                "type": "contact.list",
                "contacts": [{"type": "contact", "id": conversation["contact_id"], "external_id": None}],
            },
            "open": True,
            "state": "open",
            "tags": {
                "type": "tag.list",
                "tags": [{"type": "tag", "id": t, "name": self.tag_store[t]} for t in conversation["tag_ids"]],
            },
            "custom_attributes": dict(conversation["custom_attributes"]),
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": parts,
                "total_count": len(parts),
            },
        }

    # --- routes -------------------------------------------------------------------------------

    def _authorized(self, rec: Recorded) -> bool:
        return rec.headers.get("authorization", "") == f"Bearer {TOKEN}"

    def _admin_error(self, body: dict[str, Any]) -> Reply | None:
        admin_id = body.get("admin_id")
        if admin_id in (None, ""):
            return error(400, "parameter_not_found", "admin_id is a required parameter")
        if str(admin_id) not in self.admins:
            return error(404, "admin_not_found", "Admin not found")
        return None

    def _routes(self) -> None:
        conversation = r"/conversations/(?P<cid>[^/]+)"

        def guarded(handler: Any) -> Any:
            def run(rec: Recorded, match: re.Match[str]) -> Reply:
                if not self._authorized(rec):
                    return error(401, "unauthorized", "Access Token Invalid")
                return handler(rec, match)

            return run

        def found(match: re.Match[str]) -> dict[str, Any] | None:
            return self.conversations.get(unquote(match.group("cid")))

        @self.route("GET", "/me")
        @guarded
        def me(rec: Recorded, match: re.Match[str]) -> Reply:
            app = {"type": "app", "id_code": "deskguardtest", "name": "Deskguard test", "region": "US"}
            return Reply(200, {**self.admins[ADMIN_ID], "email_verified": True, "app": app})

        @self.route("GET", conversation)
        @guarded
        def get_conversation(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return error(404, "not_found", "Resource Not Found")
            return Reply(200, self._view(convo))

        @self.route("PUT", conversation)
        @guarded
        def update_conversation(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return error(404, "not_found", "Resource Not Found")
            attributes = _json(rec).get("custom_attributes")
            if not isinstance(attributes, dict):
                return error(400, "parameter_invalid", "custom_attributes must be an object")
            convo["custom_attributes"].update(attributes)
            return Reply(200, self._view(convo))

        @self.route("POST", conversation + "/reply")
        @guarded
        def reply(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return error(404, "not_found", "Resource Not Found")
            body = _json(rec)
            if body.get("type") != "admin" or body.get("message_type") not in ("comment", "note"):
                return error(400, "parameter_invalid", "message_type and type are required")
            refused = self._admin_error(body)
            if refused is not None:
                return refused
            if not isinstance(body.get("body"), str) or not body["body"]:
                return error(400, "parameter_invalid", "Body is required")
            author = {"type": "admin", **{k: v for k, v in self.admins[str(body["admin_id"])].items() if k != "type"}}
            convo["parts"].append(self._part(body["message_type"], body["body"], author))
            return Reply(200, self._view(convo))

        @self.route("POST", "/tags")
        @guarded
        def create_tag(rec: Recorded, match: re.Match[str]) -> Reply:
            name = _json(rec).get("name")
            if not isinstance(name, str) or not name.strip():
                return error(400, "parameter_invalid", "name is required")
            tag_id = self._tag_named(name)
            return Reply(200, {"type": "tag", "id": tag_id, "name": self.tag_store[tag_id]})

        @self.route("POST", conversation + "/tags")
        @guarded
        def attach_tag(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return error(404, "not_found", "Conversation not found")
            body = _json(rec)
            refused = self._admin_error(body)
            if refused is not None:
                return refused
            tag_id = str(body.get("id", ""))
            if tag_id not in self.tag_store:
                return error(404, "tag_not_found", "Tag not found")
            if tag_id not in convo["tag_ids"]:
                convo["tag_ids"].append(tag_id)
            return Reply(200, {"type": "tag", "id": tag_id, "name": self.tag_store[tag_id]})

        @self.route("DELETE", conversation + r"/tags/(?P<tid>[^/]+)")
        @guarded
        def detach_tag(rec: Recorded, match: re.Match[str]) -> Reply:
            convo = found(match)
            if convo is None:
                return error(404, "not_found", "Conversation not found")
            refused = self._admin_error(_json(rec))
            if refused is not None:
                return refused
            tag_id = unquote(match.group("tid"))
            if tag_id not in convo["tag_ids"]:
                return error(404, "tag_not_found", "Tag not found")
            convo["tag_ids"].remove(tag_id)
            return Reply(200, {"type": "tag", "id": tag_id, "name": self.tag_store[tag_id]})

        @self.route("GET", r"/contacts/(?P<id>[^/]+)")
        @guarded
        def get_contact(rec: Recorded, match: re.Match[str]) -> Reply:
            contact = self.contacts.get(unquote(match.group("id")))
            if contact is None:
                return error(404, "not_found", "User Not Found")
            return Reply(200, contact)
