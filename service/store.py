"""Article store: every accepted article is written here before any generation starts.

So nothing a client was told "accepted" is lost when generation fails, and the daily digest
has the day's articles to work from. Each article carries a near-duplicate fingerprint
(:mod:`service.digest.fingerprint`, computed at write time, or later when missing or
outdated) so the digest can group one story's articles. Built digests are kept here too,
by (date, timezone).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.db import open_sqlite, storage_errors
from service.digest.fingerprint import FINGERPRINT_VERSION, Fingerprint, fingerprint

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, title TEXT, source TEXT, url TEXT,
    published_at TEXT, received_at TEXT NOT NULL, briefing_id TEXT
);
CREATE INDEX IF NOT EXISTS articles_received ON articles (received_at);
CREATE TABLE IF NOT EXISTS digests (
    day TEXT NOT NULL, timezone TEXT NOT NULL, digest TEXT NOT NULL, built_at TEXT NOT NULL,
    PRIMARY KEY (day, timezone)
);
"""
# Columns added after the first release; existing files get them on open.
_ADDED_COLUMNS = {"fingerprint": "BLOB", "fingerprint_version": "TEXT"}


@dataclass(frozen=True)
class Article:
    """An accepted article as received (text before cleaning, metadata as given)."""

    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: its row id, when it arrived, and what the digest needs."""

    id: int
    article: Article
    received_at: datetime
    content_hash: str
    briefing_id: str | None
    fingerprint: Fingerprint | None  # None when missing or made by an older version


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fingerprint_or_none(text: str) -> bytes | None:
    """The stored form of the text's fingerprint; None (computed later) if that fails."""
    try:
        return fingerprint(text).to_bytes()
    except Exception:  # noqa: BLE001 - a fingerprint must never cost an accepted article
        log.exception("fingerprint failed; the digest computes it later")
        return None


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous here: give it a time zone")
    return moment.astimezone(UTC).isoformat()


class ArticleStore:
    """Append-only SQLite table of accepted articles."""

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        self.path = path
        self._db = open_sqlite(path, _SCHEMA, what="article store", timeout_s=timeout_s)
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with storage_errors(f"cannot upgrade the article store at {self.path}"):
            with self._lock:
                have = {row[1] for row in self._db.execute("PRAGMA table_info(articles)")}
                for name, kind in _ADDED_COLUMNS.items():
                    if name not in have:
                        self._db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
                self._db.commit()

    def add(self, article: Article, *, received_at: datetime | None = None) -> int:
        """Store the article durably (committed) and return its row id."""
        received = _utc_text(received_at or datetime.now(UTC))
        print_ = _fingerprint_or_none(article.text)
        with storage_errors("could not store the article"):
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO articles (content_hash, text, title, source, url,"
                    " published_at, received_at, fingerprint, fingerprint_version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        content_hash(article.text), article.text, article.title,
                        article.source, article.url, article.published_at, received,
                        print_, FINGERPRINT_VERSION if print_ is not None else None,
                    ),
                )
                self._db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def link_briefing(self, article_id: int, briefing_id: str) -> None:
        """Remember which briefing answered an article (the digest reuses it)."""
        with storage_errors("could not update the article"):
            with self._lock:
                self._db.execute(
                    "UPDATE articles SET briefing_id = ? WHERE id = ?", (briefing_id, article_id)
                )
                self._db.commit()

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def received_between(self, start: datetime, end: datetime) -> list[StoredArticle]:
        """Articles received in ``[start, end)`` (aware datetimes), oldest first.

        Outdated or missing fingerprints are computed and written back on the way.
        """
        lo, hi = _utc_text(start), _utc_text(end)
        with storage_errors("could not read the articles"):
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, text, title, source, url, published_at, received_at,"
                    " content_hash, briefing_id, fingerprint, fingerprint_version"
                    " FROM articles WHERE received_at >= ? AND received_at < ?"
                    " ORDER BY received_at, id",
                    (lo, hi),
                ).fetchall()
        found = []
        for row in rows:
            (id_, text, title, source, url, published, received, chash, briefing_id,
             blob, version) = row
            received_at = datetime.fromisoformat(received)
            if not start <= received_at < end:  # the text comparison is only a pre-filter
                continue
            if blob is None or version != FINGERPRINT_VERSION:
                blob = self._refresh_fingerprint(id_, text)
            found.append(StoredArticle(
                id=id_, article=Article(text, title, source, url, published),
                received_at=received_at, content_hash=chash, briefing_id=briefing_id,
                fingerprint=Fingerprint.from_bytes(blob) if blob is not None else None,
            ))
        return found

    def _refresh_fingerprint(self, article_id: int, text: str) -> bytes | None:
        blob = _fingerprint_or_none(text)
        if blob is None:
            return None
        try:
            with self._lock:
                self._db.execute(
                    "UPDATE articles SET fingerprint = ?, fingerprint_version = ? WHERE id = ?",
                    (blob, FINGERPRINT_VERSION, article_id),
                )
                self._db.commit()
        except sqlite3.Error as exc:  # the digest can use it anyway; next time it retries
            log.warning("could not store the fingerprint of article %d: %s", article_id, exc)
        return blob

    # -- built digests -------------------------------------------------------------------

    def save_digest(self, day: str, timezone: str, digest: dict[str, Any]) -> None:
        """Keep the digest built for ``day`` in ``timezone`` (replacing an earlier build)."""
        with storage_errors("could not store the digest"):
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO digests (day, timezone, digest, built_at)"
                    " VALUES (?, ?, ?, ?)",
                    (day, timezone, json.dumps(digest, ensure_ascii=False),
                     datetime.now(UTC).isoformat()),
                )
                self._db.commit()

    def load_digest(self, day: str, timezone: str) -> dict[str, Any] | None:
        """The digest built for ``day`` in ``timezone``, or None."""
        with storage_errors("could not read the digest"):
            with self._lock:
                row = self._db.execute(
                    "SELECT digest FROM digests WHERE day = ? AND timezone = ?", (day, timezone)
                ).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
