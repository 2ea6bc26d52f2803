"""The schema and its migrations on both backends: fresh, concurrent, older files, errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from service.errors import StorageError
from service.storage import Database, current_revision, head_revision
from service.storage.database import SCHEMA_HEAD
from service.storage.schema import articles, briefings, metadata
from tests.storage_support import write_pre_migration_file

TABLES = {"articles", "briefings", "aliases", "digests", "deliveries", "feeds", "feed_entries"}


def test_a_fresh_database_is_migrated_to_the_head(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        assert current_revision(db) == head_revision()
        with db.read("test") as conn:
            assert TABLES <= set(inspect(conn).get_table_names())
    finally:
        db.close()
    again = Database.connect(database_url)  # a second start finds nothing to do
    try:
        assert current_revision(again) == head_revision()
    finally:
        again.close()


def test_the_schema_head_the_start_checks_is_alembics_head() -> None:
    assert SCHEMA_HEAD == head_revision()  # a new migration changes SCHEMA_HEAD too


def test_a_start_at_the_head_reads_no_migration_scripts(tmp_path: Path) -> None:
    """A restart whose database is migrated already neither imports alembic nor reads the
    migrations (a third of a second before /readyz); an empty database is migrated."""
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    check = ("import sys; from service.storage import Database; "
             f"db = Database.connect({url!r}); "
             "print('alembic' in sys.modules); db.close()")
    runs = [subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                           check=True, timeout=120).stdout.split()[-1] for _ in range(2)]
    assert runs == ["True", "False"]  # the first start migrates, the second reads a version


def test_the_migrations_build_exactly_the_schema(database_url: str) -> None:
    """A column or index added to schema.py without a migration shows up here."""
    db = Database.connect(database_url)
    try:
        with db.read("test") as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
    finally:
        db.close()
    assert diff == []


def test_times_round_trip_aware_and_in_order(database_url: str) -> None:
    db = Database.connect(database_url)
    oslo = timezone(timedelta(hours=1))
    moments = [datetime(2026, 3, 29, 1, 30, tzinfo=oslo),
               datetime(2026, 3, 28, 23, 30, 0, 5, tzinfo=UTC),
               datetime(2026, 3, 28, 23, 30, tzinfo=UTC)]
    try:
        with db.write("test") as conn:
            for n, moment in enumerate(moments):
                conn.execute(insert(articles).values(
                    content_hash=str(n), text=f"text {n}", received_at=moment))
        with db.read("test") as conn:
            rows = conn.execute(
                select(articles.c.content_hash, articles.c.received_at)
                .where(articles.c.received_at >= datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
                .order_by(articles.c.received_at)
            ).all()
        assert [r.content_hash for r in rows] == ["2", "1", "0"]
        assert rows[2].received_at == moments[0] and rows[2].received_at.tzinfo is not None
        with pytest.raises(StorageError, match="naive"), db.write("test") as conn:
            conn.execute(insert(briefings).values(
                key="k", result="{}", created_at=datetime(2026, 1, 1)))
    finally:
        db.close()


MIGRATE_ONE = """
import sys
from service.storage import Database, current_revision
db = Database.connect(sys.argv[1])
print(current_revision(db))
db.close()
"""


def test_replicas_starting_together_all_end_at_the_head(database_url: str) -> None:
    processes = [
        subprocess.Popen([sys.executable, "-c", MIGRATE_ONE, database_url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.strip() == head_revision()


def test_a_file_from_before_migrations_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "articles.sqlite3"
    write_pre_migration_file(path, (
        "CREATE TABLE briefings (key TEXT PRIMARY KEY, result TEXT NOT NULL,"
        " created_at REAL NOT NULL);"
        "INSERT INTO briefings VALUES ('k', '{}', 1764237600.5);"
    ))
    db = Database.connect(f"sqlite:///{path}")
    try:
        assert current_revision(db) == head_revision()
        with db.read("test") as conn:
            row = conn.execute(select(articles)).one()
            made = conn.execute(select(briefings.c.created_at)).scalar_one()
        assert row.text == "An old article about the ferry." and row.fingerprint is None
        assert row.received_at == datetime(2026, 11, 27, 10, tzinfo=UTC)
        assert made == datetime.fromtimestamp(1764237600.5, UTC)
    finally:
        db.close()


def test_an_unreachable_postgresql_is_a_storage_error_without_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        Database.connect("postgresql://briefing:s3cret-pw@127.0.0.1:9/briefing",
                         connect_timeout_s=1)
    assert "s3cret-pw" not in caught.value.message
    assert caught.value.status == 503 and caught.value.code == "storage_error"


def test_an_unsupported_url_says_what_to_use() -> None:
    with pytest.raises(StorageError, match="postgresql://"):
        Database.connect("mysql://root:pw@localhost/x")


def test_briefing_db_upgrade_and_current(database_url: str, tmp_path: Path, monkeypatch,
                                         capsys) -> None:
    from service.cli import main
    from service.config import get_settings

    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BRIEFING_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["db", "current"]) == 0
        assert "an empty schema (behind" in capsys.readouterr().out
        assert main(["db", "upgrade"]) == 0
        assert f"migrated from an empty schema to {head_revision()}" in capsys.readouterr().out
        assert main(["db", "upgrade"]) == 0
        assert "nothing to do" in capsys.readouterr().out
        assert main(["db", "current"]) == 0
        assert "(up to date)" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_the_default_database_is_a_file_in_the_data_dir(make_settings) -> None:
    from service.storage import database_url

    settings = make_settings()
    expected = (settings.data_dir / "briefing.sqlite3").resolve()
    assert database_url(settings) == f"sqlite:///{expected}"
    # A data dir from before: its articles.sqlite3 stays the database, adopted in place.
    settings.data_dir.mkdir(parents=True)
    sqlite3.connect(settings.data_dir / "articles.sqlite3").close()
    legacy = (settings.data_dir / "articles.sqlite3").resolve()
    assert database_url(settings) == f"sqlite:///{legacy}"
