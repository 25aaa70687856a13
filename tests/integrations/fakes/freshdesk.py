"""A fake Freshdesk (API v2) with exactly the endpoints the adapter calls, on FakeHelpdesk.

Auth as Freshdesk documents it: HTTP Basic with the API key as user name (the password is ignored,
"X" by convention); anything else is 401 {"code": "invalid_credentials", ...}. Conversation lists
paginate with `page` and `per_page` (default 30, at most 100) and a Link header to the next page.
PUT /tickets/{id} replaces `tags` and merges `custom_fields`; an unknown custom field is a 400
validation error, as Freshdesk answers.
"""

from __future__ import annotations

import base64
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from integrations.payload import html_to_text
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "freshdesk"
CREDENTIALS: dict[str, str] = {"domain": "acme", "api_key": "fd-test-key-3kT9"}
OPTIONS: dict[str, str] = {"custom_field": "cf_deskguard_risk"}
NOTE_REQUEST = r"POST /api/v2/tickets/[^/]+/notes"
CUSTOM_FIELDS = ("cf_deskguard_risk",)
AGENT_ID = 43000001
_UNAUTHORIZED = {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}
_SOURCES = {"email": 1, "web": 2, "phone": 3, "chat": 7, "social": 5, "api": 2}


@dataclass
class _Conversation:
    id: int
    body: str
    private: bool
    incoming: bool
    user_id: int
    source: int  # 0 reply, 2 note (Freshdesk's conversation sources)

    def to_json(self, ticket_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "body": self.body,
            "body_text": html_to_text(self.body),
            "incoming": self.incoming,
            "private": self.private,
            "user_id": self.user_id,
            "source": self.source,
            "ticket_id": int(ticket_id) if ticket_id.isdigit() else ticket_id,
        }


@dataclass
class _Ticket:
    subject: str
    source: int
    requester_id: int
    tags: list[str]
    custom_fields: dict[str, Any]
    conversations: list[_Conversation] = field(default_factory=list)


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[str, _Ticket] = {}
        self._ids = itertools.count(1000)
        self.route("GET", r"/api/v2/agents/me")(self._me)
        self.route("GET", r"/api/v2/tickets/(?P<id>[^/]+)")(self._show)
        self.route("PUT", r"/api/v2/tickets/(?P<id>[^/]+)")(self._update)
        self.route("GET", r"/api/v2/tickets/(?P<id>[^/]+)/conversations")(self._conversations)
        self.route("POST", r"/api/v2/tickets/(?P<id>[^/]+)/notes")(self._add_note)

    # -- state --------------------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        """The ticket, its requester's later replies and agents' replies as conversations."""
        state = _Ticket(
            subject=ticket.subject,
            source=_SOURCES.get(ticket.channel, 2),
            requester_id=next(self._ids),
            tags=list(ticket.tags),
            custom_fields=dict.fromkeys(CUSTOM_FIELDS),
        )
        for index, message in enumerate(ticket.messages):
            if index == 0 and message.author == "requester":
                continue  # the ticket's description
            requester = message.author == "requester"
            state.conversations.append(
                _Conversation(
                    id=next(self._ids),
                    body=f"<div>{message.body}</div>",
                    private=False,
                    incoming=requester,
                    user_id=state.requester_id if requester else AGENT_ID,
                    source=0,
                )
            )
        self.tickets[ref] = state

    def add_conversation(self, ref: str, body: str, *, private: bool = False) -> None:
        """A conversation written by an agent (e.g. an earlier Deskguard note)."""
        state = self.tickets[ref]
        state.conversations.append(
            _Conversation(next(self._ids), body, private, incoming=False, user_id=AGENT_ID, source=2 if private else 0)
        )

    def notes(self, ref: str) -> list[str]:
        return [html_to_text(c.body) for c in self.tickets[ref].conversations if c.private]

    def tags(self, ref: str) -> set[str]:
        return set(self.tickets[ref].tags)

    def field_value(self, ref: str) -> str | None:
        value = self.tickets[ref].custom_fields.get(OPTIONS["custom_field"])
        return None if value is None else str(value)

    # -- routes -------------------------------------------------------------------------------

    def _authorized(self, rec: Recorded) -> bool:
        header = rec.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == CREDENTIALS["api_key"]

    def _ticket(self, rec: Recorded, match: re.Match[str]) -> tuple[str, _Ticket | None, Reply | None]:
        if not self._authorized(rec):
            return "", None, Reply(401, _UNAUTHORIZED)
        ref = unquote(match["id"])
        state = self.tickets.get(ref)
        if state is None:
            return ref, None, Reply(404, None)
        return ref, state, None

    def _me(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return Reply(401, _UNAUTHORIZED)
        contact = {"name": "Deskguard", "email": "deskguard@acme.test"}
        return Reply(200, {"id": AGENT_ID, "available": True, "contact": contact})

    def _show(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ref, state, error = self._ticket(rec, match)
        if state is None:
            return error or Reply(404, None)
        body = {
            "id": int(ref) if ref.isdigit() else ref,
            "subject": state.subject,
            "source": state.source,
            "requester_id": state.requester_id,
            "tags": list(state.tags),
            "custom_fields": dict(state.custom_fields),
        }
        return Reply(200, body)

    def _update(self, rec: Recorded, match: re.Match[str]) -> Reply:
        _, state, error = self._ticket(rec, match)
        if state is None:
            return error or Reply(404, None)
        try:
            data = rec.json()
        except ValueError:
            return Reply(400, _invalid({"code": "invalid_json"}))
        problems = _update_problems(data)
        if problems:
            return Reply(400, _invalid(*problems))
        if "tags" in data:
            state.tags = list(dict.fromkeys(data["tags"]))
        state.custom_fields.update(data.get("custom_fields") or {})
        return self._show(rec, match)

    def _conversations(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ref, state, error = self._ticket(rec, match)
        if state is None:
            return error or Reply(404, None)
        page = int((rec.query.get("page") or ["1"])[0])
        per_page = min(int((rec.query.get("per_page") or ["30"])[0]), 100)
        start = (page - 1) * per_page
        items = state.conversations[start : start + per_page]
        headers = {}
        if start + per_page < len(state.conversations):
            headers["Link"] = f'<{rec.path}?page={page + 1}&per_page={per_page}>; rel="next"'
        return Reply(200, [c.to_json(ref) for c in items], headers)

    def _add_note(self, rec: Recorded, match: re.Match[str]) -> Reply:
        ref, state, error = self._ticket(rec, match)
        if state is None:
            return error or Reply(404, None)
        data = rec.json()
        if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"]:
            return Reply(400, _invalid({"field": "body", "code": "missing_field"}))
        private = data.get("private", True)
        if not isinstance(private, bool):
            return Reply(400, _invalid({"field": "private", "code": "datatype_mismatch"}))
        note = _Conversation(next(self._ids), data["body"], private, incoming=False, user_id=AGENT_ID, source=2)
        state.conversations.append(note)
        return Reply(201, note.to_json(ref))


def _invalid(*errors: dict[str, str]) -> dict[str, Any]:
    return {"description": "Validation failed", "errors": list(errors)}


def _update_problems(data: Any) -> list[dict[str, str]]:
    """Freshdesk's validation of the two ticket attributes Deskguard updates."""
    if not isinstance(data, dict):
        return [{"code": "invalid_json"}]
    problems = []
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        problems.append(
            {"field": "tags", "message": "It should contain elements of type String only", "code": "datatype_mismatch"}
        )
    fields = data.get("custom_fields", {})
    if not isinstance(fields, dict):
        problems.append({"field": "custom_fields", "code": "datatype_mismatch"})
    else:
        for name in fields:
            if name not in CUSTOM_FIELDS:
                problems.append(
                    {"field": name, "message": "Unexpected/invalid field in request", "code": "invalid_field"}
                )
    return problems
