"""What one service process holds: settings, the database engine, the assessor and its executor.

Built at start-up (never at import). spaCy work runs on one dedicated thread per process, off
FastAPI's default thread pool: threads contend for the GIL, so throughput scales with processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from fastapi import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.core.engine import Assessor
from app.db import make_engine, make_sessionmaker, session_scope
from app.integrations.crypto import Vault
from app.settings import Settings

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    assessor: Assessor
    vault: Vault
    # helpdesk API calls made while receiving a webhook (completing thin events); short timeouts
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=httpx.Timeout(5.0, connect=3.0)))
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="assess")
    )

    @classmethod
    def start(cls, settings: Settings, assessor: Assessor | None = None) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            assessor=assessor or Assessor.load(settings.spacy_model),
            vault=Vault.from_settings(settings),
        )

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.http.close()
        self.engine.dispose()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one committed unit of work on the assessment thread."""

        def job() -> T:
            with self.unit_of_work() as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self.executor, job)

    async def run_executor(self, work: Callable[[], T]) -> T:
        """Run `work` (which manages its own units of work) on the assessment thread."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    async def run_io(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one committed unit of work on FastAPI's thread pool (no spaCy: database and I/O)."""

        def job() -> T:
            with self.unit_of_work() as session:
                return work(session)

        return await run_in_threadpool(job)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
