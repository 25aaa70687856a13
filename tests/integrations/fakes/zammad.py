"""A fake Zammad REST API with exactly the endpoints the adapter calls, on FakeHelpdesk.

Auth as Zammad documents it: `Authorization: Token token=<access token>`; anything else is 401.
Articles are listed unpaginated per ticket; a note created with the token is sender "Agent".
Tags: GET /tags lists, POST /tags/add (201 true) and DELETE /tags/remove (200 true in Zammad's
controller, 201 in its docs) are idempotent as in Zammad's Tag model. PUT /tickets/{id} stores
the attributes it is given.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.core.ticket import Ticket
from integrations.payload import html_to_text
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply

PROVIDER = "zammad"
CREDENTIALS: dict[str, str] = {"token": "zm-test-token-8fQ2"}
OPTIONS: dict[str, str] = {"custom_field": "deskguard_risk"}
NOTE_REQUEST = r"POST /api/v1/ticket_articles"
AGENT_ID = 3
ARTICLE_TYPES = (
    "email", "sms", "chat", "fax", "phone", "twitter status", "twitter direct-message", "facebook feed post",
    "facebook feed comment", "note", "web", "telegram personal-message", "facebook direct-message", "whatsapp message",
)  # fmt: skip
_UNAUTHORIZED = {"error": "Authentication failed", "error_human": "Authentication failed"}
_CHANNEL_TYPE = {"email": "email", "web": "web", "phone": "phone", "chat": "chat", "social": "whatsapp message"}


@dataclass
class _Article:
    id: int
    ticket_id: int | str
    body: str
    content_type: str
    type: str
    internal: bool
    sender: str
    created_by_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "body": self.body,
            "content_type": self.content_type,
            "type": self.type,
            "internal": self.internal,
            "sender": self.sender,
            "created_by_id": self.created_by_id,
        }


@dataclass
class _Ticket:
    id: int | str
    title: str
    customer_id: int
    tags: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)
    articles: list[_Article] = field(default_factory=list)


def _key(value: Any) -> str:
    return str(value)


class Fake(FakeHelpdesk):
    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[str, _Ticket] = {}
        self._ids = itertools.count(100)
        self.route("GET", r"/api/v1/users/me")(self._me)
        self.route("GET", r"/api/v1/ticket_articles/by_ticket/(?P<id>[^/]+)")(self._articles)
        self.route("POST", r"/api/v1/ticket_articles")(self._create_article)
        self.route("GET", r"/api/v1/tags")(self._list_tags)
        self.route("POST", r"/api/v1/tags/add")(self._add_tag)
        self.route("DELETE", r"/api/v1/tags/remove")(self._remove_tag)
        self.route("PUT", r"/api/v1/tickets/(?P<id>[^/]+)")(self._update_ticket)

    # -- state --------------------------------------------------------------------------------

    def add_ticket(self, ref: str, ticket: Ticket) -> None:
        """The ticket with one article per message: the requester's as Customer, agents' as Agent."""
        ticket_id: int | str = int(ref) if ref.isdigit() else ref
        state = _Ticket(id=ticket_id, title=ticket.subject, customer_id=next(self._ids), tags=list(ticket.tags))
        for message in ticket.messages:
            customer = message.author == "requester"
            state.articles.append(
                _Article(
                    id=next(self._ids),
                    ticket_id=ticket_id,
                    body=message.body,
                    content_type="text/plain",
                    type=_CHANNEL_TYPE.get(ticket.channel, "note") if customer else "email",
                    internal=False,
                    sender="Customer" if customer else "Agent",
                    created_by_id=state.customer_id if customer else AGENT_ID,
                )
            )
        self.tickets[ref] = state

    def add_article(self, ref: str, body: str, *, internal: bool = True) -> None:
        """An article written by an agent (e.g. an earlier Deskguard note)."""
        state = self.tickets[ref]
        article = _Article(next(self._ids), state.id, body, "text/html", "note", internal, "Agent", AGENT_ID)
        state.articles.append(article)

    def notes(self, ref: str) -> list[str]:
        return [html_to_text(a.body) for a in self.tickets[ref].articles if a.internal]

    def tags(self, ref: str) -> set[str]:
        return set(self.tickets[ref].tags)

    def field_value(self, ref: str) -> str | None:
        value = self.tickets[ref].attributes.get(OPTIONS["custom_field"])
        return None if value is None else str(value)

    # -- routes -------------------------------------------------------------------------------

    def _authorized(self, rec: Recorded) -> bool:
        return rec.headers.get("authorization", "") == f"Token token={CREDENTIALS['token']}"

    def _find(self, ref: Any) -> _Ticket | None:
        return self.tickets.get(_key(ref)) if ref is not None else None

    def _me(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return Reply(401, _UNAUTHORIZED)
        return Reply(200, {"id": AGENT_ID, "login": "deskguard@example.com", "firstname": "Desk", "lastname": "Guard"})

    def _articles(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return Reply(401, _UNAUTHORIZED)
        state = self._find(unquote(match["id"]))
        if state is None:
            return Reply(404, {"error": "Couldn't find Ticket"})
        return Reply(200, [a.to_json() for a in state.articles])

    def _create_article(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return Reply(401, _UNAUTHORIZED)
        data = rec.json()
        if not isinstance(data, dict):
            return Reply(422, {"error": "Invalid payload"})
        state = self._find(data.get("ticket_id"))
        if state is None:
            return Reply(404, {"error": "Couldn't find Ticket"})
        problem = _article_problem(data)
        if problem:
            return Reply(422, {"error": problem})
        article = _Article(
            id=next(self._ids),
            ticket_id=state.id,
            body=data["body"],
            content_type=data.get("content_type", "text/plain"),
            type=data.get("type", "note"),
            internal=data.get("internal", False),
            sender="Agent",
            created_by_id=AGENT_ID,
        )
        state.articles.append(article)
        return Reply(201, article.to_json())

    def _tag_target(self, rec: Recorded, data: Any) -> tuple[_Ticket | None, Reply | None]:
        if not self._authorized(rec):
            return None, Reply(401, _UNAUTHORIZED)
        if not isinstance(data, dict) or data.get("object") != "Ticket":
            return None, Reply(422, {"error": "object must be Ticket"})
        state = self._find(data.get("o_id"))
        if state is None:
            return None, Reply(404, {"error": "Couldn't find Ticket"})
        return state, None

    def _list_tags(self, rec: Recorded, match: re.Match[str]) -> Reply:
        query = {k: v[0] for k, v in rec.query.items()}
        state, error = self._tag_target(rec, query)
        if state is None:
            return error or Reply(404, None)
        return Reply(200, {"tags": list(state.tags)})

    def _add_tag(self, rec: Recorded, match: re.Match[str]) -> Reply:
        data = rec.json()
        state, error = self._tag_target(rec, data)
        if state is None:
            return error or Reply(404, None)
        item = str(data.get("item", "")).strip()
        if not item:
            return Reply(422, {"error": "item is missing"})
        if item not in state.tags:
            state.tags.append(item)
        return Reply(201, True)

    def _remove_tag(self, rec: Recorded, match: re.Match[str]) -> Reply:
        data = rec.json()
        state, error = self._tag_target(rec, data)
        if state is None:
            return error or Reply(404, None)
        item = str(data.get("item", "")).strip()
        state.tags = [t for t in state.tags if t != item]
        return Reply(200, True)

    def _update_ticket(self, rec: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(rec):
            return Reply(401, _UNAUTHORIZED)
        state = self._find(unquote(match["id"]))
        if state is None:
            return Reply(404, {"error": "Couldn't find Ticket"})
        data = rec.json()
        if not isinstance(data, dict):
            return Reply(422, {"error": "Invalid payload"})
        state.attributes.update({k: v for k, v in data.items() if k not in ("id", "article")})
        return Reply(200, {"id": state.id, "title": state.title, "customer_id": state.customer_id, **state.attributes})


def _article_problem(data: dict[str, Any]) -> str:
    """Zammad's checks on a new article, as far as the adapter's request is concerned."""
    if not isinstance(data.get("body"), str) or not data["body"]:
        return "body is missing"
    if data.get("type", "note") not in ARTICLE_TYPES:
        return "unknown article type"
    if not isinstance(data.get("internal", False), bool):
        return "internal must be true or false"
    if data.get("content_type", "text/plain") not in ("text/plain", "text/html"):
        return "unknown content_type"
    return ""
