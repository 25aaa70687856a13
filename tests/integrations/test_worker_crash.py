"""`deskguard worker` killed with SIGKILL between claiming and finishing a write-back: after a
restart the note is written exactly once (the lease runs out, the marker check finds the note)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.service import Installed
from app.models import OutboxItem
from app.settings import Settings
from tests.integrations.contract import VENDORS, attack_ticket, fake_module, install_vendor, new_ref, push_sample
from tests.integrations.fakeserver import wait_for

DESKGUARD = str(Path(sys.executable).with_name("deskguard"))
LEASE_SECONDS = 2


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> ModuleType:
    return fake_module(str(request.param))


@pytest.fixture
def fake(vendor: ModuleType) -> Iterator[Any]:
    with vendor.Fake() as server:
        yield server


def start_worker(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DESKGUARD_ENV": "test",
        "DESKGUARD_DATABASE_URL": settings.database_url,
        "DESKGUARD_ENCRYPTION_KEYS": settings.encryption_keys,
        "DESKGUARD_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    return subprocess.Popen(
        [DESKGUARD, "worker", "--poll", "0.1", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def row_of(settings: Settings, assessment_id: str) -> OutboxItem:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as s:
            return s.scalars(select(OutboxItem).where(OutboxItem.assessment_id == assessment_id)).one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("kill_point", ["before_the_note", "after_the_note_before_the_answer"])
def test_sigkilled_worker_then_restart_writes_the_note_exactly_once(
    client: TestClient,
    settings: Settings,
    install: Callable[..., Installed],
    vendor: ModuleType,
    fake: Any,
    kill_point: str,
) -> None:
    installed = install_vendor(install, vendor, fake.base_url)
    ref = new_ref()
    ticket = attack_ticket(ref)
    fake.add_ticket(ref, ticket)
    assessed = push_sample(client, settings, installed, ticket).json()
    assert assessed["status"] == "assessed", assessed
    requests_before = len(fake.requests)

    if kill_point == "before_the_note":
        fake.hang_next(seconds=30)  # the worker's first call to the helpdesk never returns
    else:
        fake.hang_next(seconds=30, match=vendor.NOTE_REQUEST, after=True)
    worker = start_worker(settings)
    try:
        if kill_point == "before_the_note":
            assert wait_for(lambda: len(fake.requests) > requests_before, timeout=30)
            assert fake.notes(ref) == []
        else:
            assert wait_for(lambda: len(fake.notes(ref)) == 1, timeout=30)
        claimed = row_of(settings, assessed["assessment_id"])
        assert claimed.status == "in_progress"
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
    fake.release.set()  # the hung request ends with its dead client

    restarted = start_worker(settings)
    try:
        assert wait_for(
            lambda: row_of(settings, assessed["assessment_id"]).status == "done", timeout=LEASE_SECONDS + 30
        )
    finally:
        restarted.send_signal(signal.SIGTERM)
        _, err = restarted.communicate(timeout=15)
    assert restarted.returncode == 0, err.decode()[-2000:]
    notes = fake.notes(ref)
    assert len(notes) == 1
    assert assessed["assessment_id"] in notes[0]
    assert f"deskguard-{assessed['level']}" in fake.tags(ref)
    assert row_of(settings, assessed["assessment_id"]).attempts == 2
