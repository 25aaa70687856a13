"""The database: engines made at start-up (never at import), sessions, the declarative base, migrations.

SQLite (the embedded default) and PostgreSQL (production) are both first-class. Services never
commit: the caller that owns the unit of work uses `session_scope`, which commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

# Stable constraint names, so that migrations name (and can later drop) exactly what the models declare.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def ensure_sqlite_directory(url: str | URL) -> None:
    """Create the parent directory of a SQLite database file if it is missing (no-op otherwise)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or _is_sqlite_memory(parsed):
        return
    database = str(parsed.database)
    if database.startswith("file:"):  # a URI filename (uri=true)
        database = database.removeprefix("file:").split("?", 1)[0]
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine, *, foreign_keys: bool) -> None:
    """Pragmas on every new connection, and SQLAlchemy (not the sqlite3 module) emitting BEGIN.

    The sqlite3 module's legacy transaction control skips BEGIN before SELECT, DDL and SAVEPOINT;
    taking it over makes DDL transactional and savepoints real (the tests rely on both).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL, *, sqlite_foreign_keys: bool = True, echo: bool = False) -> Engine:
    """Build the engine for `url`. Call it at start-up (app factory, CLI command, test fixture).

    `sqlite_foreign_keys=False` is for migrations only: SQLite's batch mode recreates tables, and
    dropping the old copy with foreign keys on would cascade deletes into child tables.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if _is_sqlite_memory(parsed):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(parsed, echo=echo, **kwargs)
        _install_sqlite_hooks(engine, foreign_keys=sqlite_foreign_keys)
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(bind: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    session = bind() if isinstance(bind, sessionmaker) else Session(bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_missing(
    session: Session, model: type[Base], values: Mapping[str, Any], conflict_columns: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (conflict_columns) DO NOTHING: create a row unless it already exists.

    Safe under concurrency (two webhooks for the same new ticket): the loser inserts nothing and
    then reads the winner's row. Column defaults apply as for any insert.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg_stmt = pg_insert(model).values(dict(values))
        session.execute(pg_stmt.on_conflict_do_nothing(index_elements=conflict_columns))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        sqlite_stmt = sqlite_insert(model).values(dict(values))
        session.execute(sqlite_stmt.on_conflict_do_nothing(index_elements=conflict_columns))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def alembic_config(url: str | URL) -> Config:
    """An Alembic config for the packaged migrations, pointed at `url` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    # ConfigParser interpolates '%': escape it (percent-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def migrate(url: str | URL, revision: str = "head") -> None:
    """`alembic upgrade <revision>` on `url`, creating a SQLite file's directory first.

    In-memory SQLite is refused: the migrated database would vanish with the migration's connection.
    """
    from alembic import command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and _is_sqlite_memory(parsed):
        raise ValueError("cannot migrate an in-memory SQLite database: use a file (tests: tmp_path)")
    ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), revision)
