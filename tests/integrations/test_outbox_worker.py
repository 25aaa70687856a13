"""The outbox worker against a real local callback server: success, 429 with Retry-After, 5xx,
hangs, refused credentials, dead-lettering with the reason visible, retry, and leases."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.integrations.service import Installed
from app.integrations.worker import Worker
from app.models import AuditEntry, OutboxItem
from app.settings import Settings
from tests.integrations.contract import Clock
from tests.integrations.fakeserver import FakeHelpdesk, Recorded, Reply
from tests.integrations.test_hooks_api import deliver, ticket


@pytest.fixture
def callback() -> Iterator[FakeHelpdesk]:
    with FakeHelpdesk() as fake:

        @fake.route("POST", "/deskguard")
        def receive(rec: Recorded, _m: object) -> Reply:
            return Reply(202, {"ok": True})

        yield fake


@pytest.fixture
def installed(install: Callable[..., Installed], callback: FakeHelpdesk) -> Installed:
    return install("generic", f"{callback.base_url}/deskguard")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_worker(settings: Settings, clock: Clock) -> Iterator[Callable[..., Worker]]:
    engine = make_engine(settings.database_url)
    made: list[Worker] = []

    def make(name: str = "w1", timeout: float = 5.0, max_attempts: int | None = None) -> Worker:
        s = settings if max_attempts is None else settings.model_copy(update={"outbox_max_attempts": max_attempts})
        worker = Worker(
            s,
            make_sessionmaker(engine),
            Vault.from_settings(settings),
            http=httpx.Client(timeout=timeout),
            name=name,
            clock=clock,
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.close()
    engine.dispose()


def item_of(settings: Settings, integration_id: str) -> OutboxItem:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            return s.scalars(select(OutboxItem).where(OutboxItem.integration_id == integration_id)).one()
    finally:
        engine.dispose()


def test_write_back_is_sent_signed_once_and_retired(
    client: TestClient,
    installed: Installed,
    callback: FakeHelpdesk,
    make_worker: Callable[..., Worker],
    settings: Settings,
) -> None:
    assessed = deliver(client, installed, ticket("W-1")).json()
    worker = make_worker()
    assert [o.status for o in worker.run_once()] == ["done"]
    assert worker.run_once() == []
    [sent] = callback.sent("POST", "/deskguard")
    body = sent.json()
    assert body["assessment_id"] == assessed["assessment_id"]
    assert body["ticket_id"] == "W-1"
    assert f"deskguard-{assessed['level']}" in body["tags"]
    assert sent.headers["idempotency-key"].endswith(assessed["assessment_id"])
    ts = sent.headers["x-deskguard-timestamp"]
    expected = hmac.new(installed.secret.encode(), f"{ts}.".encode() + sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["x-deskguard-signature"] == f"v1={expected}"
    assert item_of(settings, installed.id).status == "done"


def test_429_waits_for_retry_after_then_succeeds(
    client: TestClient,
    installed: Installed,
    callback: FakeHelpdesk,
    make_worker: Callable[..., Worker],
    settings: Settings,
    clock: Clock,
) -> None:
    deliver(client, installed, ticket("W-2"))
    callback.fail_next(429, headers={"Retry-After": "120"})
    worker = make_worker()
    [outcome] = worker.run_once()
    assert outcome.status == "pending"
    assert "rate limited" in outcome.reason
    row = item_of(settings, installed.id)
    assert row.next_attempt_at >= clock.now + timedelta(seconds=120)
    assert worker.run_once() == []  # not due yet
    clock.advance(121)
    assert [o.status for o in worker.run_once()] == ["done"]
    assert item_of(settings, installed.id).attempts == 2


def test_5xx_and_hangs_retry_with_backoff_then_dead_letter(
    client: TestClient,
    installed: Installed,
    callback: FakeHelpdesk,
    make_worker: Callable[..., Worker],
    settings: Settings,
    clock: Clock,
    auth: Callable[..., dict[str, str]],
) -> None:
    deliver(client, installed, ticket("W-3"))
    callback.fail_next(503, times=2)
    callback.hang_next(seconds=5)
    worker = make_worker(timeout=0.5, max_attempts=3)
    delays = []
    statuses = []
    for _ in range(3):
        before = clock.now
        [outcome] = worker.run_once()
        statuses.append(outcome.status)
        if outcome.status == "pending":
            row = item_of(settings, installed.id)
            delays.append((row.next_attempt_at - before).total_seconds())
            clock.advance(delays[-1] + 1)
    assert statuses == ["pending", "pending", "dead"]
    assert delays[1] > delays[0]  # exponential
    row = item_of(settings, installed.id)
    assert row.status == "dead"
    assert "timed out" in row.last_error

    dead = client.get(
        f"/v1/integrations/{installed.id}/outbox", params={"status": "dead"}, headers=auth(installed.tenant, "admin")
    ).json()
    assert [d["id"] for d in dead] == [row.id]
    assert "timed out" in dead[0]["last_error"]

    retried = client.post(
        f"/v1/integrations/{installed.id}/outbox/{row.id}/retry", headers=auth(installed.tenant, "admin")
    )
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
    assert [o.status for o in worker.run_once()] == ["done"]
    again = client.post(
        f"/v1/integrations/{installed.id}/outbox/{row.id}/retry", headers=auth(installed.tenant, "admin")
    )
    assert again.status_code == 409
    assert again.json()["code"] == "not_dead"


def test_refused_credentials_dead_letter_at_once_with_an_audit_entry(
    client: TestClient,
    installed: Installed,
    callback: FakeHelpdesk,
    make_worker: Callable[..., Worker],
    settings: Settings,
) -> None:
    deliver(client, installed, ticket("W-4"))
    callback.fail_next(401)
    [outcome] = make_worker().run_once()
    assert outcome.status == "dead"
    assert "refused the credentials" in outcome.reason
    engine = make_engine(settings.database_url)
    with session_scope(make_sessionmaker(engine)) as s:
        events = s.scalars(select(AuditEntry.event).where(AuditEntry.tenant_id == installed.tenant)).all()
    engine.dispose()
    assert "writeback_dead_lettered" in events


def test_a_claim_is_a_lease(
    client: TestClient,
    installed: Installed,
    make_worker: Callable[..., Worker],
    settings: Settings,
    clock: Clock,
) -> None:
    deliver(client, installed, ticket("W-5"))
    first, second = make_worker("w1"), make_worker("w2")
    [held] = first.claim()
    assert second.claim() == []  # held by w1
    clock.advance(settings.outbox_lease_seconds + 1)  # w1 died without finishing
    [taken] = second.claim()
    assert taken.id == held.id
    assert first.send(held).status == "lost"  # w1 wakes up late: the row is w2's now, w1 records nothing
    assert item_of(settings, installed.id).claimed_by == "w2"
    assert second.send(taken).status == "done"


def test_embedded_worker_sends_from_the_service_process(
    settings: Settings, assessor: Any, installed: Installed, callback: FakeHelpdesk
) -> None:
    from app.main import create_app
    from app.runtime import Runtime
    from tests.integrations.fakeserver import wait_for

    embedded = settings.model_copy(update={"embedded_worker": True})
    runtime = Runtime.start(embedded, assessor=assessor)
    try:
        with TestClient(create_app(embedded, runtime)) as c:
            assessed = deliver(c, installed, ticket("W-6")).json()
            assert wait_for(lambda: len(callback.sent("POST", "/deskguard")) == 1, timeout=15)
        assert callback.sent("POST", "/deskguard")[0].json()["assessment_id"] == assessed["assessment_id"]
    finally:
        runtime.close()
