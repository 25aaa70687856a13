"""The API fixtures, with outgoing mail going to a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.settings import Settings
from tests.api.conftest import TEST_ENCRYPTION_KEY, api_db_url, auth, client, new_tenant  # noqa: F401


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Controller, Inbox]) -> Iterator[Inbox]:
    _, box = smtp_server
    box.messages.clear()
    yield box


@pytest.fixture
def settings(api_db_url: str, smtp_server: tuple[Controller, Inbox]) -> Settings:  # noqa: F811
    controller, _ = smtp_server
    return Settings(
        env="test",
        database_url=api_db_url,
        jwt_secret="test-secret-" + "x" * 32,
        encryption_keys=TEST_ENCRYPTION_KEY,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        log_level="DEBUG",
        log_json=True,
    )
