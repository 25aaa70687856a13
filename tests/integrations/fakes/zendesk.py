"""A fake Zendesk Support account: exactly the REST endpoints integrations/zendesk.py calls.

Routes, as documented at developer.zendesk.com (each also without its optional ".json"):
GET /api/v2/users/me.json, GET /api/v2/users/{id}.json, GET /api/v2/tickets/{id}/comments.json
(cursor pagination: page[size], page[after], sort=created_at|-created_at; meta.has_more,
meta.after_cursor, links.next), PUT /api/v2/tickets/{id}.json (comment, custom_fields, tags),
PUT and DELETE /api/v2/tickets/{id}/tags.json. Every request needs HTTP Basic
"{email}/token:{api_token}" (API token auth); anything else gets Zendesk's 401
{"error": "Couldn't authenticate you"}. Unknown tickets and users get 404 RecordNotFound.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from integrations.payload import html_to_text
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "zendesk"
SUBDOMAIN = "deskguard-fake"
AGENT_EMAIL = "agent@deskguard-fake.example"
API_TOKEN = "zd-fake-api-token-0123456789"
CREDENTIALS: dict[str, str] = {"subdomain": SUBDOMAIN, "email": AGENT_EMAIL, "api_token": API_TOKEN}
FIELD_ID = "360001"
OPTIONS: dict[str, str] = {"custom_field": FIELD_ID}
NOTE_REQUEST = r"^PUT /api/v2/tickets/[^/]+\.json$"  # the field update uses the bare /api/v2/tickets/{id}

AGENT_ID = 1001
_TICKET = r"/api/v2/tickets/(?P<ticket>[^/]+?)"
_JSON = r"(?:\.json)?"
_UNAUTHORIZED = Reply(401, {"error": "Couldn't authenticate you"}, {"WWW-Authenticate": 'Basic realm="Web Password"'})
_NOT_FOUND = Reply(404, {"error": "RecordNotFound", "description": "Not found"})


@dataclass
class FakeComment:
    id: int
    author_id: int
    body: str
    html_body: str
    public: bool

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": [],
            "created_at": "2025-01-08T10:12:07Z",
        }


@dataclass
class FakeTicket:
    id: str
    subject: str
    requester_id: int
    comments: list[FakeComment] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[int, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "requester_id": self.requester_id,
            "tags": list(self.tags),
            "custom_fields": [{"id": k, "value": v} for k, v in self.custom_fields.items()],
        }


class Fake(FakeHelpdesk):
    """Zendesk's tickets, comments, tags, custom fields and users, kept in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[str, FakeTicket] = {}
        self.users: dict[int, dict[str, Any]] = {
            AGENT_ID: {"id": AGENT_ID, "name": "Deskguard Bot", "email": AGENT_EMAIL, "role": "agent", "phone": None}
        }
        self.me_role = "agent"
        self._ids = itertools.count(5_000_001)
        self._user_ids = itertools.count(9_000_001)
        self.route("GET", r"/api/v2/users/me" + _JSON)(self._authed(self._me))
        self.route("GET", r"/api/v2/users/(?P<user>[0-9]+)" + _JSON)(self._authed(self._user))
        self.route("GET", _TICKET + r"/comments" + _JSON)(self._authed(self._comments))
        self.route("PUT", _TICKET + r"/tags" + _JSON)(self._authed(self._add_tags))
        self.route("DELETE", _TICKET + r"/tags" + _JSON)(self._authed(self._remove_tags))
        self.route("PUT", _TICKET + _JSON)(self._authed(self._update))

    # -- the contract ----------------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        """The ticket, its requester (a new end user) and its messages as public comments now exist."""
        requester_id = self.add_user(
            name=ticket.requester.name,
            email=ticket.requester.email,
            phone=ticket.requester.phone,
            external_id=ticket.requester.external_id,
        )
        fake = FakeTicket(id=ref, subject=ticket.subject, requester_id=requester_id, tags=list(ticket.tags))
        for message in ticket.messages:
            author = requester_id if message.author == "requester" else AGENT_ID
            fake.comments.append(FakeComment(next(self._ids), author, message.body, f"<p>{message.body}</p>", True))
        self.tickets[ref] = fake

    def notes(self, ref: str) -> list[str]:
        return [c.body for c in self.tickets[ref].comments if not c.public]

    def tags(self, ref: str) -> set[str]:
        return set(self.tickets[ref].tags)

    def field_value(self, ref: str) -> str | None:
        value = self.tickets[ref].custom_fields.get(int(FIELD_ID))
        return None if value is None else str(value)

    # -- helpers for tests -----------------------------------------------------------------------

    def add_user(self, name: str = "", email: str = "", phone: str = "", external_id: str = "") -> int:
        user_id = next(self._user_ids)
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "email": email or None,
            "phone": phone or None,
            "external_id": external_id or None,
            "role": "end-user",
            "verified": True,
        }
        return user_id

    def requester_id(self, ref: str) -> int:
        return self.tickets[ref].requester_id

    def add_comment(self, ref: str, author_id: int, body: str, public: bool = True) -> None:
        self.tickets[ref].comments.append(FakeComment(next(self._ids), author_id, body, f"<p>{body}</p>", public))

    # -- auth ------------------------------------------------------------------------------------

    def _authorized(self, rec: Recorded) -> bool:
        expected = "Basic " + base64.b64encode(f"{AGENT_EMAIL}/token:{API_TOKEN}".encode()).decode()
        return hmac.compare_digest(rec.headers.get("authorization", "").encode(), expected.encode())

    def _authed(self, handler: Any) -> Any:
        def guarded(rec: Recorded, match: re.Match[str]) -> Reply:
            return handler(rec, match) if self._authorized(rec) else _UNAUTHORIZED

        return guarded

    def _ticket(self, match: re.Match[str]) -> FakeTicket | None:
        return self.tickets.get(unquote(match.group("ticket")))

    # -- routes ----------------------------------------------------------------------------------

    def _me(self, rec: Recorded, match: re.Match[str]) -> Reply:
        return Reply(200, {"user": {**self.users[AGENT_ID], "role": self.me_role}})

    def _user(self, rec: Recorded, match: re.Match[str]) -> Reply:
        user = self.users.get(int(match.group("user")))
        return Reply(200, {"user": user}) if user else _NOT_FOUND

    def _comments(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ticket = self._ticket(match)
        if ticket is None:
            return _NOT_FOUND
        ordered = list(ticket.comments)
        if rec.query.get("sort", [""])[0] == "-created_at":
            ordered.reverse()
        size = min(int(rec.query.get("page[size]", ["100"])[0]), 100)
        start = int(rec.query.get("page[after]", ["0"])[0])
        page = ordered[start : start + size]
        more = start + size < len(ordered)
        after = str(start + size) if more else None
        return Reply(
            200,
            {
                "comments": [c.json() for c in page],
                "meta": {"has_more": more, "after_cursor": after, "before_cursor": str(start)},
                "links": {"next": f"{self.base_url}{rec.path}?page[after]={after}" if more else None, "prev": None},
            },
        )

    def _update(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ticket = self._ticket(match)
        if ticket is None:
            return _NOT_FOUND
        body = rec.json()
        update = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(update, dict):
            return Reply(400, {"error": "InvalidEndpoint", "description": "the body needs a ticket object"})
        comment = update.get("comment")
        if isinstance(comment, dict):
            html = str(comment.get("html_body") or "")
            text = html_to_text(html) if html else str(comment.get("body") or "")
            public = comment.get("public", True) is not False
            ticket.comments.append(FakeComment(next(self._ids), AGENT_ID, text, html or f"<p>{text}</p>", public))
        for item in update.get("custom_fields") or []:
            ticket.custom_fields[int(item["id"])] = item.get("value")
        if isinstance(update.get("tags"), list):
            ticket.tags = [str(t) for t in update["tags"]]
        return Reply(200, {"ticket": ticket.json(), "audit": {"id": next(self._ids), "events": []}})

    def _add_tags(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ticket = self._ticket(match)
        if ticket is None:
            return _NOT_FOUND
        for tag in rec.json().get("tags", []):
            if tag not in ticket.tags:
                ticket.tags.append(tag)
        return Reply(200, {"tags": list(ticket.tags)})

    def _remove_tags(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ticket = self._ticket(match)
        if ticket is None:
            return _NOT_FOUND
        remove = set(rec.json().get("tags", []))
        ticket.tags = [t for t in ticket.tags if t not in remove]
        return Reply(200, {"tags": list(ticket.tags)})
