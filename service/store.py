"""Article store: every accepted article is written here before any generation starts.

So nothing a client was told "accepted" is lost when generation fails, and the daily digest
has the day's articles to work from.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.db import open_sqlite
from service.errors import StorageError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, title TEXT, source TEXT, url TEXT,
    published_at TEXT, received_at TEXT NOT NULL, briefing_id TEXT
);
CREATE INDEX IF NOT EXISTS articles_received ON articles (received_at);
"""


@dataclass(frozen=True)
class Article:
    """An accepted article as received (text before cleaning, metadata as given)."""

    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ArticleStore:
    """Append-only SQLite table of accepted articles."""

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        self.path = path
        self._db = open_sqlite(path, _SCHEMA, what="article store", timeout_s=timeout_s)
        self._lock = threading.Lock()

    def add(self, article: Article, *, received_at: datetime | None = None) -> int:
        """Store the article durably (committed) and return its row id."""
        received = (received_at or datetime.now(UTC)).astimezone(UTC).isoformat()
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO articles (content_hash, text, title, source, url,"
                    " published_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        content_hash(article.text), article.text, article.title,
                        article.source, article.url, article.published_at, received,
                    ),
                )
                self._db.commit()
        except sqlite3.Error as exc:
            raise StorageError(f"could not store the article: {exc}") from exc
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def link_briefing(self, article_id: int, briefing_id: str) -> None:
        """Remember which briefing answered an article (the digest reuses it)."""
        try:
            with self._lock:
                self._db.execute(
                    "UPDATE articles SET briefing_id = ? WHERE id = ?", (briefing_id, article_id)
                )
                self._db.commit()
        except sqlite3.Error as exc:
            raise StorageError(f"could not update the article: {exc}") from exc

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
