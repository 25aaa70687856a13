"""`deskguard worker`: claims due write-backs from the outbox and sends them to the helpdesks.

Any number of workers may run against one database. Each claim is committed before the helpdesk
is called, and each outcome after, so a worker killed at any point loses nothing: its lease runs
out and another worker (or itself, restarted) finishes the row.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

import httpx
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.integrations import outbox
from app.integrations.crypto import Vault
from app.integrations.notes import note_from_json
from app.integrations.service import config_of, get_row
from app.logging import get_logger
from app.models.integration import OutboxItem
from app.runtime import Runtime, utc_now
from app.settings import Settings
from integrations.http import DEFAULT_TIMEOUT, WriteBackError
from integrations.registry import adapter_for

log = get_logger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Outcome:
    item_id: int
    status: str  # done | pending | dead | lost
    reason: str = ""


@dataclass
class Worker:
    settings: Settings
    sessions: sessionmaker[Session]
    vault: Vault
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=DEFAULT_TIMEOUT))
    name: str = field(default_factory=worker_name)
    clock: Callable[[], datetime] = utc_now
    stopping: threading.Event = field(default_factory=threading.Event)

    def claim(self, limit: int = 10, assessment_id: str | None = None) -> list[OutboxItem]:
        try:
            with session_scope(self.sessions) as session:
                lease = self.settings.outbox_lease_seconds
                return outbox.claim(session, self.name, self.clock(), lease, limit, assessment_id=assessment_id)
        except OperationalError as exc:  # SQLite: another writer holds the lock; try again next round
            log.warning("outbox_claim_busy", error=type(exc.orig).__name__)
            return []

    def send(self, item: OutboxItem) -> Outcome:
        """Write one claimed item back to its helpdesk and record the outcome."""
        try:
            with session_scope(self.sessions) as session:
                config = config_of(self.vault, get_row(session, item.integration_id))
            adapter = adapter_for(config.provider)
            if adapter is None:
                raise WriteBackError(f"provider {config.provider!r} is no longer supported", retryable=False)
            api = adapter.connect(config, self.http)
            adapter.write_back(api, item.ref, note_from_json(item.note), config)
        except WriteBackError as exc:
            return self._failed(item, exc.reason, exc.retryable, exc.retry_after)
        except Exception as exc:  # an adapter bug must not kill the worker or lose the row
            log.error("writeback_crashed", item=item.id, integration=item.integration_id, error=type(exc).__name__)
            return self._failed(item, f"internal error: {type(exc).__name__}", True, None)
        with session_scope(self.sessions) as session:
            kept = outbox.succeed(session, item.id, self.name, self.clock())
        log.info("writeback_done", item=item.id, attempts=item.attempts)
        return Outcome(item.id, "done" if kept else "lost")

    def _failed(self, item: OutboxItem, reason: str, retryable: bool, retry_after: float | None) -> Outcome:
        with session_scope(self.sessions) as session:
            status = outbox.fail(
                session,
                item.id,
                self.name,
                self.clock(),
                reason,
                retryable=retryable,
                retry_after=retry_after,
                max_attempts=self.settings.outbox_max_attempts,
            )
        log.warning("writeback_failed", item=item.id, attempts=item.attempts, status=status, reason=reason)
        return Outcome(item.id, status, reason)

    def run_once(self, limit: int = 10) -> list[Outcome]:
        """Claim one batch and send it; returns what happened to each row."""
        return [self.send(item) for item in self.claim(limit) if not self.stopping.is_set()]

    def run(self, poll_seconds: float = 1.0, until_idle: bool = False) -> None:
        """Work until stopped (SIGTERM/SIGINT finish the current row first), or until idle."""
        log.info("worker_started", worker=self.name)
        while not self.stopping.is_set():
            outcomes = self.run_once()
            if not outcomes:
                if until_idle:
                    break
                self.stopping.wait(poll_seconds)
        log.info("worker_stopped", worker=self.name)

    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def close(self) -> None:
        self.http.close()


@dataclass
class EmbeddedWorker:
    worker: Worker
    thread: threading.Thread

    def stop(self) -> None:
        self.worker.stopping.set()
        self.thread.join(timeout=30)
        self.worker.close()


def start_embedded_worker(runtime: Runtime) -> EmbeddedWorker:
    """An outbox worker on a thread of the service process (DESKGUARD_EMBEDDED_WORKER=true)."""
    worker = Worker(runtime.settings, runtime.sessions, runtime.vault)
    thread = threading.Thread(target=worker.run, name="outbox-worker", daemon=True)
    thread.start()
    return EmbeddedWorker(worker, thread)
