"""Every vendor adapter through the real path: its signed sample delivery -> the webhook endpoint ->
assessment -> outbox worker -> the vendor's API (a local fake of its documented endpoints): one
private note with the marker, the level tag, the field; duplicates and lost responses write nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.db import make_engine, make_sessionmaker
from app.integrations.crypto import Vault
from app.integrations.service import Installed
from app.integrations.worker import Worker
from app.settings import Settings
from tests.integrations.contract import VENDORS, Clock, attack_ticket, fake_module, install_vendor, new_ref, push_sample


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> ModuleType:
    return fake_module(str(request.param))


@pytest.fixture
def fake(vendor: ModuleType) -> Iterator[Any]:
    with vendor.Fake() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(settings: Settings, clock: Clock) -> Iterator[Worker]:
    engine = make_engine(settings.database_url)
    w = Worker(
        settings, make_sessionmaker(engine), Vault.from_settings(settings), http=httpx.Client(timeout=1.0), clock=clock
    )
    yield w
    w.close()
    engine.dispose()


def test_sample_delivery_is_assessed_and_written_back_once(
    client: TestClient,
    settings: Settings,
    install: Callable[..., Installed],
    vendor: ModuleType,
    fake: Any,
    worker: Worker,
) -> None:
    installed = install_vendor(install, vendor, fake.base_url)
    ref = new_ref()
    ticket = attack_ticket(ref)
    fake.add_ticket(ref, ticket)

    response = push_sample(client, settings, installed, ticket)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "assessed", result
    assert result["ticket_id"] == f"{vendor.PROVIDER}:{ref}"
    assert result["level"] in ("high", "critical"), result

    again = push_sample(client, settings, installed, ticket)
    assert again.status_code == 200
    assert again.json()["status"] in ("duplicate", "unchanged")

    outcomes = worker.run_once(limit=50)
    assert [o.status for o in outcomes] == ["done"], outcomes
    notes = fake.notes(ref)
    assert len(notes) == 1
    assert result["assessment_id"] in notes[0]
    assert f"deskguard-{result['level']}" in fake.tags(ref)
    if vendor.OPTIONS.get("custom_field"):
        assert fake.field_value(ref) == result["level"]


def test_a_lost_response_never_writes_a_second_note(
    client: TestClient,
    settings: Settings,
    install: Callable[..., Installed],
    vendor: ModuleType,
    fake: Any,
    worker: Worker,
    clock: Clock,
) -> None:
    installed = install_vendor(install, vendor, fake.base_url)
    ref = new_ref()
    ticket = attack_ticket(ref)
    fake.add_ticket(ref, ticket)
    assert push_sample(client, settings, installed, ticket).json()["status"] == "assessed"

    fake.hang_next(seconds=10, match=vendor.NOTE_REQUEST, after=True)  # the note is stored, the answer never comes
    [first] = worker.run_once(limit=50)
    assert first.status == "pending", first
    assert len(fake.notes(ref)) == 1

    clock.advance(3600)  # past the backoff
    [second] = worker.run_once(limit=50)
    assert second.status == "done", second
    assert len(fake.notes(ref)) == 1
    assert any(t.startswith("deskguard-") for t in fake.tags(ref))
