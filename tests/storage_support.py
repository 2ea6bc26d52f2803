"""Stores and caches on a database of their own, as a separate process would open them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.config import Settings
from service.digest.fingerprint import ARTICLES
from service.storage import Database
from service.storage.articles import ArticleStore
from service.storage.cache import DatabaseCache


def open_database(where: str | Path | Settings) -> Database:
    """A URL, an SQLite file, or the database the settings name (all migrated)."""
    if isinstance(where, Settings):
        return Database.open(where)
    if isinstance(where, Path):
        return Database.connect(f"sqlite:///{where}")
    return Database.connect(where)


class OwnStore(ArticleStore):
    """An article store that opens (and on close, disposes of) its own database."""

    def __init__(self, where: str | Path | Settings) -> None:
        super().__init__(open_database(where), ARTICLES)

    def close(self) -> None:
        self.database.close()


class OwnCache(DatabaseCache):
    """A briefing cache that opens (and on close, disposes of) its own database."""

    def __init__(self, where: str | Path | Settings) -> None:
        super().__init__(open_database(where))

    def close(self) -> None:
        self.database.close()


# The articles table as SQLite files held it before migrations, with one old article.
PRE_MIGRATION_ARTICLES = (
    "CREATE TABLE articles (id INTEGER PRIMARY KEY AUTOINCREMENT, content_hash TEXT NOT NULL,"
    " text TEXT NOT NULL, title TEXT, source TEXT, url TEXT, published_at TEXT,"
    " received_at TEXT NOT NULL, briefing_id TEXT);"
    "CREATE INDEX articles_received ON articles (received_at);"
    "INSERT INTO articles (content_hash, text, received_at) VALUES"
    " ('x', 'An old article about the ferry.', '2026-11-27T10:00:00+00:00');"
)


def write_pre_migration_file(path: Path, more_sql: str = "") -> None:
    """An SQLite file from before migrations: the old articles table, then ``more_sql``."""
    old = sqlite3.connect(path)
    old.executescript(PRE_MIGRATION_ARTICLES + more_sql)
    old.commit()
    old.close()
