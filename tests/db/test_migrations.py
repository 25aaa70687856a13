"""The migrations build exactly the schema the models declare, and can be undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from app.db import Base, alembic_config, make_engine, migrate, session_scope
from app.models import Account, Tenant


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_creates_every_table(empty_db_url: str) -> None:
    assert _tables(empty_db_url) == set()

    migrate(empty_db_url)

    assert _tables(empty_db_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_upgrade_is_at_the_single_head(db_url: str, engine: Engine) -> None:
    heads = ScriptDirectory.from_config(alembic_config(db_url)).get_heads()
    assert len(heads) == 1, f"migration history has branched: {heads}"
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def test_downgrade_base_removes_everything_and_upgrade_again_works(empty_db_url: str) -> None:
    migrate(empty_db_url)
    command.downgrade(alembic_config(empty_db_url), "base")
    assert _tables(empty_db_url) <= {"alembic_version"}

    migrate(empty_db_url)
    assert set(Base.metadata.tables) <= _tables(empty_db_url)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration for: {diff}"


def test_migrate_creates_the_sqlite_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not' / 'there' / 'deskguard.sqlite3'}"

    migrate(url)

    assert (tmp_path / "not" / "there" / "deskguard.sqlite3").is_file()
    assert set(Base.metadata.tables) <= _tables(url)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_migrate_refuses_in_memory_sqlite(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        migrate(url)


def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma["foreign_keys"] == 1
    assert str(pragma["journal_mode"]).lower() == "wal"
    assert int(str(pragma["busy_timeout"])) > 0


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Account(tenant_id="no-such-tenant", external_id="A-1"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_timestamps_come_back_aware_and_in_utc(session: Session, written: datetime) -> None:
    session.add(Tenant(id="tz", name="tz", created_at=written))
    session.flush()

    read = session.scalars(select(Tenant.created_at).where(Tenant.id == "tz")).one()

    assert read.utcoffset() == timedelta(0)
    assert read == written


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Tenant(id="naive", name="naive", created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_session_scope_commits_on_success_and_rolls_back_on_error(empty_db_url: str) -> None:
    migrate(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with session_scope(engine) as s:
            s.add(Tenant(id="kept", name="kept"))
        with pytest.raises(RuntimeError), session_scope(engine) as s:
            s.add(Tenant(id="dropped", name="dropped"))
            s.flush()
            raise RuntimeError("boom")
        with session_scope(engine) as s:
            assert set(s.scalars(select(Tenant.id))) == {"kept"}
    finally:
        engine.dispose()


def test_ddl_is_transactional(empty_db_url: str) -> None:
    """What lets a failed upgrade leave the database as it was, on SQLite too."""
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
            conn.rollback()
        assert "half_done" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
