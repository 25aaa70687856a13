"""The normalized ticket: the one input shape every entry point reduces to.

Empty strings and empty lists mean "unknown". `requester` is what the helpdesk knows about who
wrote in; `account` is what the company has on file for the account the ticket concerns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.vocabulary import Author, Channel

MAX_BODY_CHARS = 100_000
MAX_MESSAGES = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Message(_Strict):
    author: Author = "requester"
    body: str = Field(default="", max_length=MAX_BODY_CHARS)
    created_at: datetime | None = None


class Requester(_Strict):
    external_id: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=320)
    phone: str = Field(default="", max_length=64)
    authenticated: bool = False


class RecentChange(_Strict):
    """A change to the account already made (e.g. the email was changed yesterday)."""

    kind: str = Field(min_length=1, max_length=64)
    at: datetime | None = None
    detail: str = Field(default="", max_length=500)


class AccountDetails(_Strict):
    """What is on file for an account, without its id."""

    name: str = Field(default="", max_length=300)
    emails: list[str] = Field(default_factory=list, max_length=50)
    phones: list[str] = Field(default_factory=list, max_length=50)
    roles: list[str] = Field(default_factory=list, max_length=50)
    recent_changes: list[RecentChange] = Field(default_factory=list, max_length=200)

    @field_validator("emails")
    @classmethod
    def _lower_emails(cls, v: list[str]) -> list[str]:
        return [e.strip().lower() for e in v if e.strip()]


class AccountOnFile(AccountDetails):
    id: str = Field(min_length=1, max_length=200)


class Ticket(_Strict):
    ticket_id: str = Field(min_length=1, max_length=200)
    tenant: str = Field(default="", max_length=100)
    channel: Channel = "email"
    subject: str = Field(default="", max_length=2_000)
    messages: list[Message] = Field(default_factory=list, max_length=MAX_MESSAGES)
    requester: Requester = Field(default_factory=Requester)
    account: AccountOnFile | None = None
    language: str = Field(default="", max_length=16)
    tags: list[str] = Field(default_factory=list, max_length=200)
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    def requester_messages(self) -> list[tuple[int, Message]]:
        """Messages written by the requester, with their index in `messages`."""
        return [(i, m) for i, m in enumerate(self.messages) if m.author == "requester"]
