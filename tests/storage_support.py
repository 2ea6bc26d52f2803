"""Stores and caches on a database of their own, as a separate process would open them."""

from __future__ import annotations

from pathlib import Path

from service.cache import DatabaseCache
from service.config import Settings
from service.storage import Database
from service.store import ArticleStore


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
        super().__init__(open_database(where))

    def close(self) -> None:
        self.database.close()


class OwnCache(DatabaseCache):
    """A briefing cache that opens (and on close, disposes of) its own database."""

    def __init__(self, where: str | Path | Settings) -> None:
        super().__init__(open_database(where))

    def close(self) -> None:
        self.database.close()
