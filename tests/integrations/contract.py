"""What every vendor adapter's test fake offers (tests/integrations/fakes/<provider>.py), and helpers
to install an integration against a fake and push the adapter's own sample delivery through the API."""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, Protocol

from fastapi.testclient import TestClient

from app.core.ticket import Message, Requester, Ticket
from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.integrations.service import Installed, config_of, get_row
from app.runtime import utc_now
from app.settings import Settings
from integrations.protocol import IntegrationConfig
from integrations.registry import PROVIDERS, adapter_for

VENDORS = [p for p in PROVIDERS if p != "generic"]
ATTACK = (
    "Hi, I lost my phone and can't get my two-factor codes. Please disable 2FA and change my login email "
    "to my new address today, I'm travelling and it's urgent."
)


class VendorFake(Protocol):
    base_url: str

    def add_ticket(self, ref: str, ticket: Ticket) -> None: ...
    def notes(self, ref: str) -> list[str]: ...
    def tags(self, ref: str) -> set[str]: ...
    def field_value(self, ref: str) -> str | None: ...
    def hang_next(self, seconds: float = 30.0, times: int = 1, match: str = "", after: bool = False) -> None: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: object) -> None: ...


class Clock:
    """A worker's clock that tests move forward (past backoffs and leases)."""

    def __init__(self) -> None:
        self.now = utc_now() + timedelta(seconds=5)  # rows queued during the test are due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fake_module(provider: str) -> ModuleType:
    return importlib.import_module(f"tests.integrations.fakes.{provider}")


def attack_ticket(ref: str) -> Ticket:
    return Ticket(
        ticket_id=ref,
        channel="email",
        subject="Locked out of my account",
        messages=[Message(author="requester", body=ATTACK)],
        requester=Requester(name="Ana Souza", email=f"ana.{ref}@example.com", external_id=f"u{ref}"),
    )


def new_ref() -> str:
    return str(10_000 + uuid.uuid4().int % 89_999_999)


def install_vendor(install: Callable[..., Installed], module: ModuleType, base_url: str, **kwargs: Any) -> Installed:
    return install(
        module.PROVIDER,
        base_url,
        credentials=dict(module.CREDENTIALS),
        options=dict(module.OPTIONS),
        secret="contract-" + uuid.uuid4().hex,
        **kwargs,
    )


def config_for(settings: Settings, integration_id: str) -> IntegrationConfig:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            return config_of(Vault.from_settings(settings), get_row(session, integration_id))
    finally:
        engine.dispose()


def push_sample(client: TestClient, settings: Settings, installed: Installed, ticket: Ticket) -> Any:
    """POST the adapter's own signed sample delivery of `ticket` to the webhook endpoint."""
    adapter = adapter_for(installed.provider)
    assert adapter is not None
    delivery = adapter.sample(config_for(settings, installed.id), ticket, time.time())
    return client.post(
        f"/v1/hooks/{installed.provider}/{installed.id}",
        content=delivery.body,
        headers=dict(delivery.headers),
        params=dict(delivery.query),
    )
