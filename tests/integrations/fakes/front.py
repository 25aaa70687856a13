"""A fake of Front's Core API (https://dev.frontapp.com/reference) for exactly the calls the adapter makes.

Bearer-token auth on every route (a wrong or missing token gets Front's 401 `_error` body), state kept
per conversation: comments (listed newest first), tags by id, custom fields (a PATCH replaces them all,
as Front documents), and the messages GET /messages/{id} returns.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from tests.integrations.fakeserver import FakeHelpdesk, Handler, Recorded, Reply

PROVIDER = "front"
TOKEN = "front-test-token-1"
FIELD = "Deskguard risk"
OTHER_FIELD = "Tier"  # a field Deskguard must not erase
CREDENTIALS: dict[str, str] = {"api_token": TOKEN}
OPTIONS: dict[str, str] = {"custom_field": FIELD}
NOTE_REQUEST = r"POST /conversations/[^/]+/comments"
TAG_PAGE_SIZE = 2  # small, so the adapter has to follow `_pagination.next`


def _error(status: int, title: str, message: str) -> Reply:
    return Reply(status, {"_error": {"status": status, "title": title, "message": message}})


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}  # oldest first
        self.messages: dict[str, dict[str, Any]] = {}
        self.tag_store: dict[str, dict[str, Any]] = {}  # id -> tag
        self.custom_field_names = {FIELD, OTHER_FIELD}
        self._seq = 0
        self._routes()

    # --- the contract -----------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        handle = ticket.requester.email or ticket.requester.phone or "anonymous"
        recipient = {
            "_links": {"related": {"contact": None}},
            "name": ticket.requester.name,
            "handle": handle,
            "role": "from",
        }
        with self.lock:
            self.conversations[ref] = {
                "id": ref,
                "subject": ticket.subject,
                "status": "unassigned",
                "recipient": recipient,
                "tag_ids": [self._tag_named(name)["id"] for name in ticket.tags],
                "custom_fields": {OTHER_FIELD: "gold"},
            }
            self.comments.setdefault(ref, [])
            for message in ticket.messages:
                mid = self._next("msg")
                self.messages[mid] = {
                    "_links": {"self": f"{self.base_url}/messages/{mid}"},
                    "id": mid,
                    "type": "email",
                    "is_inbound": message.author == "requester",
                    "created_at": 1700000000,
                    "body": f"<p>{message.body}</p>",
                    "text": message.body,
                    "author": None,
                    "recipients": [recipient],
                    "conversation_id": ref,
                }

    def notes(self, ref: str) -> list[str]:
        return [c["body"] for c in self.comments.get(ref, [])]

    def tags(self, ref: str) -> set[str]:
        conversation = self.conversations.get(ref, {})
        return {self.tag_store[t]["name"] for t in conversation.get("tag_ids", [])}

    def field_value(self, ref: str) -> str | None:
        value = self.conversations.get(ref, {}).get("custom_fields", {}).get(FIELD)
        return None if value is None else str(value)

    # --- helpers ----------------------------------------------------------------------------

    def add_tag(self, name: str) -> str:
        """A company tag that exists before the adapter runs; returns its id."""
        with self.lock:
            return str(self._tag_named(name)["id"])

    def _next(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}_{self._seq:04d}"

    def _tag_named(self, name: str) -> dict[str, Any]:
        for tag in self.tag_store.values():
            if tag["name"] == name:
                return tag
        tag_id = self._next("tag")
        tag = {
            "_links": {"self": f"{self.base_url}/tags/{tag_id}"},
            "id": tag_id,
            "name": name,
            "description": None,
            "highlight": None,
            "is_private": False,
            "is_visible_in_conversation_lists": True,
        }
        self.tag_store[tag_id] = tag
        return tag

    def _conversation_json(self, conversation: dict[str, Any]) -> dict[str, Any]:
        ref = conversation["id"]
        return {
            "_links": {"self": f"{self.base_url}/conversations/{ref}"},
            "id": ref,
            "subject": conversation["subject"],
            "status": conversation["status"],
            "recipient": conversation["recipient"],
            "tags": [self.tag_store[t] for t in conversation["tag_ids"]],
            "custom_fields": dict(conversation["custom_fields"]),
            "is_private": False,
        }

    def _authed(self, method: str, pattern: str) -> Any:
        """Register a route that answers 401 unless the request carries the right bearer token."""

        def register(handler: Handler) -> Handler:
            def guarded(rec: Recorded, match: re.Match[str]) -> Reply:
                if rec.headers.get("authorization") != f"Bearer {TOKEN}":
                    return _error(401, "Unauthorized", "Invalid or missing API token")
                return handler(rec, match)

            self.route(method, pattern)(guarded)
            return handler

        return register

    def _conversation(self, match: re.Match[str]) -> dict[str, Any] | None:
        return self.conversations.get(unquote(match["cid"]))

    # --- routes -----------------------------------------------------------------------------

    def _routes(self) -> None:
        conv = r"/conversations/(?P<cid>[^/]+)"

        @self._authed("GET", r"/me")
        def me(rec: Recorded, match: re.Match[str]) -> Reply:
            return Reply(200, {"_links": {"self": f"{self.base_url}/me"}, "id": "cmp_fake", "name": "Fake Company"})

        @self._authed("GET", conv)
        def get_conversation(rec: Recorded, match: re.Match[str]) -> Reply:
            conversation = self._conversation(match)
            if conversation is None:
                return _error(404, "Not found", "Conversation not found")
            return Reply(200, self._conversation_json(conversation))

        @self._authed("PATCH", conv)
        def patch_conversation(rec: Recorded, match: re.Match[str]) -> Reply:
            conversation = self._conversation(match)
            if conversation is None:
                return _error(404, "Not found", "Conversation not found")
            fields = rec.json().get("custom_fields")
            if fields is not None:
                if not isinstance(fields, dict) or set(fields) - self.custom_field_names:
                    return _error(400, "Bad request", "Invalid custom fields")
                conversation["custom_fields"] = dict(fields)  # Front replaces them all
            return Reply(204, None)

        @self._authed("GET", conv + r"/comments")
        def list_comments(rec: Recorded, match: re.Match[str]) -> Reply:
            ref = unquote(match["cid"])
            if ref not in self.conversations:
                return _error(404, "Not found", "Conversation not found")
            results = list(reversed(self.comments[ref]))  # newest first
            return Reply(
                200, {"_links": {"self": f"{self.base_url}/conversations/{ref}/comments"}, "_results": results}
            )

        @self._authed("POST", conv + r"/comments")
        def add_comment(rec: Recorded, match: re.Match[str]) -> Reply:
            ref = unquote(match["cid"])
            body = rec.json().get("body") if isinstance(rec.json(), dict) else None
            if ref not in self.conversations:
                return _error(404, "Not found", "Conversation not found")
            if not isinstance(body, str) or not body:
                return _error(400, "Bad request", "body is required")
            comment = {
                "_links": {},
                "id": self._next("com"),
                "body": body,
                "posted_at": 1700000000.0,
                "author": {"id": "tea_api", "type": "API"},
                "attachments": [],
                "is_pinned": False,
            }
            self.comments[ref].append(comment)
            return Reply(201, comment)

        @self._authed("POST", conv + r"/tags")
        def add_tags(rec: Recorded, match: re.Match[str]) -> Reply:
            return self._change_tags(rec, match, add=True)

        @self._authed("DELETE", conv + r"/tags")
        def remove_tags(rec: Recorded, match: re.Match[str]) -> Reply:
            return self._change_tags(rec, match, add=False)

        @self._authed("GET", r"/tags")
        def list_tags(rec: Recorded, match: re.Match[str]) -> Reply:
            start = int(rec.query.get("page_token", ["0"])[0])
            limit = min(int(rec.query.get("limit", [str(TAG_PAGE_SIZE)])[0]), TAG_PAGE_SIZE)
            tags = list(self.tag_store.values())
            page = tags[start : start + limit]
            after = start + limit
            nxt = f"{self.base_url}/tags?limit={limit}&page_token={after}" if after < len(tags) else None
            return Reply(
                200, {"_pagination": {"next": nxt}, "_links": {"self": f"{self.base_url}/tags"}, "_results": page}
            )

        @self._authed("POST", r"/company/tags")
        def create_tag(rec: Recorded, match: re.Match[str]) -> Reply:
            name = rec.json().get("name") if isinstance(rec.json(), dict) else None
            if not isinstance(name, str) or not name or len(name) > 64:
                return _error(400, "Bad request", "name is required (64 characters at most)")
            return Reply(201, self._tag_named(name))

        @self._authed("GET", r"/messages/(?P<mid>[^/]+)")
        def get_message(rec: Recorded, match: re.Match[str]) -> Reply:
            message = self.messages.get(unquote(match["mid"]))
            if message is None:
                return _error(404, "Not found", "Message not found")
            return Reply(200, message)

    def _change_tags(self, rec: Recorded, match: re.Match[str], *, add: bool) -> Reply:
        conversation = self._conversation(match)
        if conversation is None:
            return _error(404, "Not found", "Conversation not found")
        ids = rec.json().get("tag_ids") if isinstance(rec.json(), dict) else None
        if not isinstance(ids, list) or not ids or any(t not in self.tag_store for t in ids):
            return _error(400, "Bad request", "tag_ids must list existing tags")
        for tag_id in ids:
            if add and tag_id not in conversation["tag_ids"]:
                conversation["tag_ids"].append(tag_id)
            elif not add and tag_id in conversation["tag_ids"]:
                conversation["tag_ids"].remove(tag_id)
        return Reply(204, None)
