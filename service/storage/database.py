"""One database for everything the service keeps: SQLite (default) or PostgreSQL.

``BRIEFING_DATABASE_URL`` picks it: ``sqlite:///path`` (default: ``briefing.sqlite3`` in the
data dir) or ``postgresql://user:pass@host/db`` (psycopg 3). :meth:`Database.open` creates the
engine and applies the migrations, so a fresh database, an older file and a database another
replica is upgrading right now all end at the current schema.

Every statement runs inside :meth:`Database.read` or :meth:`Database.write`, which turn driver
errors into :class:`StorageError` (503 ``storage_error``) naming what failed. Nothing here
holds a connection between calls, so a PostgreSQL that went away and came back is used again
without a restart (the pool tests each connection before handing it out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    create_engine,
    event,
    make_url,
    select,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from service.errors import StorageError

if TYPE_CHECKING:
    from service.config import Settings

log = logging.getLogger(__name__)
# Alembic says "Context impl …" at INFO on every look at the version; our own line says what
# was migrated.
logging.getLogger("alembic").setLevel(logging.WARNING)

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key of schema migrations (any constant; "brf" + 1).
_MIGRATION_LOCK = 0x62726601


def database_url(settings: Settings) -> str:
    """The configured URL, or the SQLite file in the data dir.

    A data dir from before this schema keeps its articles, digests and ledger in
    ``articles.sqlite3``: while there is no ``briefing.sqlite3`` beside it, that file is the
    database (the first migration adopts it and keeps its rows).
    """
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    path = settings.data_dir / "briefing.sqlite3"
    legacy = settings.data_dir / "articles.sqlite3"
    if legacy.exists() and not path.exists():
        path = legacy
    return f"sqlite:///{path.resolve()}"


def redact(url: str | URL) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never echo an unparseable URL: it may hold a secret
        return "(unparseable database URL)"


def _normalized(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not (parsed.drivername.startswith("sqlite") or parsed.drivername.startswith("postgresql")):
        raise StorageError(
            f"BRIEFING_DATABASE_URL {redact(parsed)!r} is not supported: use sqlite:///path "
            "or postgresql://user:password@host:5432/dbname"
        )
    return parsed


class Database:
    """The engine and the three ways to use it: read, write, upgrade."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name  # "sqlite" or "postgresql"
        self.url = redact(engine.url)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        """The database the settings name; migrated to the current schema unless told not."""
        return cls.connect(
            database_url(settings), timeout_s=settings.sqlite_timeout_s,
            connect_timeout_s=settings.database_timeout_s,
            pool_size=settings.database_pool_size, migrate=migrate,
        )

    @classmethod
    def connect(
        cls, url: str, *, timeout_s: float = 5.0, connect_timeout_s: float = 5.0,
        pool_size: int = 5, migrate: bool = True,
    ) -> Database:
        parsed = _normalized(url)
        if parsed.drivername.startswith("sqlite"):
            engine = _sqlite_engine(parsed, timeout_s)
        else:
            engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size * 2,
                pool_timeout=connect_timeout_s, pool_pre_ping=True, pool_recycle=1800,
                connect_args={"connect_timeout": max(1, round(connect_timeout_s)),
                              "application_name": "briefing"},
            )
        database = cls(engine)
        if migrate:
            try:
                upgrade(database)
            except BaseException:
                database.close()
                raise
        return database

    @contextmanager
    def read(self, what: str) -> Iterator[Connection]:
        """A connection for reads; errors become StorageError("<what>: <the reason>")."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: {_reason(exc)}") from exc

    @contextmanager
    def write(self, what: str) -> Iterator[Connection]:
        """A transaction, committed when the block ends.

        SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``), so a read-then-write
        transaction never fails half-way on a snapshot another writer moved; PostgreSQL
        transactions lock rows as they touch them (``SELECT … FOR UPDATE`` where it matters).
        """
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(briefing_immediate=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: {_reason(exc)}") from exc

    def upsert(
        self, table: Table, keys: Sequence[str], *, update: Sequence[str] | None = None,
    ) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO UPDATE`` (``update``: these columns; default all
        others), or ``DO NOTHING`` when ``update`` is empty; same SQL idea on both backends."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table)
        if update is None:
            update = [c.name for c in table.columns if c.name not in keys]
        if not update:
            return statement.on_conflict_do_nothing(index_elements=list(keys))
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_={name: statement.excluded[name] for name in update},
        )

    def close(self) -> None:
        self.engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's message, without SQLAlchemy's statement dump and background link."""
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig if orig is not None else exc).split())[:500]


def _sqlite_engine(url: URL, timeout_s: float) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": timeout_s, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (see _on_begin): the driver's own would be deferred.
        dbapi_conn.isolation_level = None
        _set_wal(dbapi_conn, timeout_s)
        # In WAL mode NORMAL still survives a killed process (kill -9): a commit is in the
        # log before it returns; only a power cut can lose the newest commits. FULL would
        # fsync every acknowledged article and cost milliseconds per request.
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("briefing_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(dbapi_conn: Any, timeout_s: float) -> None:
    """Switch the file to WAL, retried: processes opening a new file at once race for the
    switch, and SQLite answers that race "locked" at once instead of waiting."""
    import sqlite3

    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


# -- migrations ------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration shipped with this code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The migration the database is at; None for an empty (or pre-migration) database."""
    from alembic.runtime.migration import MigrationContext

    with database.read("could not read the schema version") as conn:
        return MigrationContext.configure(conn).get_current_revision()


# The newest migration shipped with this code (alembic's head), kept here so that a start
# whose database is already at it neither imports alembic nor reads the migration scripts
# (~0.3 s of every start before /readyz). tests/test_storage.py checks it is alembic's head:
# a new migration changes it.
SCHEMA_HEAD = "0006"


def _stored_revision(database: Database) -> str | None:
    """The revision alembic recorded (its ``alembic_version`` table), read without alembic;
    None when there is none (an empty database) or it cannot be read."""
    try:
        with database.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def upgrade(database: Database, revision: str = "head") -> tuple[str | None, str]:
    """Apply the migrations up to ``revision``; (revision before, revision after).

    Replicas starting together serialize here: the migration runs in one transaction that
    first takes a lock (an advisory lock in PostgreSQL, the write lock in SQLite), and each
    looks at the version again once it holds it, so the second finds nothing to do.
    """
    if revision == "head" and _stored_revision(database) == SCHEMA_HEAD:
        return SCHEMA_HEAD, SCHEMA_HEAD
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    target = head_revision() if revision == "head" else revision
    before = current_revision(database)
    if before == target:
        return before, before
    with database.write("could not migrate the database schema") as conn:
        if database.dialect == "postgresql":
            conn.execute(select(text(f"pg_advisory_xact_lock({_MIGRATION_LOCK})")))
        before = MigrationContext.configure(conn).get_current_revision()
        if before != target:
            log.info("database %s: migrating from %s to %s", database.url,
                     before or "an empty schema", target)
            command.upgrade(alembic_config(conn), revision)
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return before, after


__all__ = ["SCHEMA_HEAD", "Database", "current_revision", "database_url", "head_revision", "redact",
           "upgrade"]
