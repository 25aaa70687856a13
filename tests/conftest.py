"""Shared fixtures: a migrated database per backend, and one rolled-back transaction per test.

Backends: "sqlite" always (a temp file); "postgresql" too when DESKGUARD_TEST_POSTGRES_URL is set
(e.g. postgresql+psycopg://deskguard:deskguard@127.0.0.1:5432/deskguard_test, see .ci/postgres.sh).
Each test session then gets a fresh database on that server, dropped at the end; the URL's role
needs CREATEDB. If the variable is set and the server cannot be reached, tests fail: never skip.

Fixtures: `db_backend` ("sqlite" | "postgresql"), `db_url` (migrated, session-wide), `engine`,
`session` (per test, rolled back), `empty_db_url` (a fresh, unmigrated database per test).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.engine import Assessor
from app.db import make_engine, migrate
from app.settings import get_settings

POSTGRES_URL_VAR = "DESKGUARD_TEST_POSTGRES_URL"
DROP_ATTEMPTS = 20
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(POSTGRES_URL_VAR) else ["sqlite"]


def _postgres_admin() -> Engine:
    return create_engine(os.environ[POSTGRES_URL_VAR], isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _create_postgres_database() -> tuple[str, Callable[[], None]]:
    """A new empty database on the test server: its URL, and the function that drops it."""
    name = f"deskguard_test_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise RuntimeError(f"{POSTGRES_URL_VAR} is set but a test database cannot be created: {exc}") from exc
    url = make_url(os.environ[POSTGRES_URL_VAR]).set(database=name)

    def drop() -> None:
        # An autovacuum worker (a superuser backend) may be busy in the database for a moment; FORCE
        # cannot terminate it for a non-superuser role, so try again briefly.
        try:
            for attempt in range(DROP_ATTEMPTS):
                try:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    return
                except DBAPIError:
                    if attempt == DROP_ATTEMPTS - 1:
                        raise
                    time.sleep(0.5)
        finally:
            admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _new_database(backend: str, directory: Path) -> tuple[str, Callable[[], None]]:
    if backend == "postgresql":
        return _create_postgres_database()
    return f"sqlite:///{directory / f'{uuid.uuid4().hex[:12]}.sqlite3'}", lambda: None


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh database migrated to head, dropped on exit."""
    url, drop = _new_database(backend, directory)
    try:
        migrate(url)
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def db_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head, shared by the whole test session."""
    with migrated_database(db_backend, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A Session inside one transaction that is rolled back after the test.

    Code under test may call session.commit(): it only releases a savepoint.
    """
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables, dropped after the test (for migration tests)."""
    url, drop = _new_database(db_backend, tmp_path)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def assessor() -> Assessor:
    """Rule packs, scoring, playbooks and the spaCy model, loaded once per test session."""
    return Assessor.load(get_settings().spacy_model)
