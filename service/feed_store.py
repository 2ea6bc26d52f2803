"""Feed state: the feeds followed, how their last poll went, and the entries already seen.

It lives in the article store's database (``articles.sqlite3``): an entry is marked seen
in the same database that holds the article made from it.

  feeds         one row per feed: where it came from (BRIEFING_FEEDS, an OPML import), its
                validators (ETag, Last-Modified) for conditional requests, the last poll's
                status and error, failures in a row and the time of the next poll
                (backoff), whether it is gone (410), counts, and a claim that lets one
                poller (of several processes) poll it at a time
  feed_entries  keys of entries seen — ``guid:<feed>\\n<guid>``, ``url:<link>``,
                ``url:<canonical URL>`` — so no entry is fetched twice, from any feed
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from service.db import open_sqlite, storage_errors

__all__ = ["FeedState", "FeedStore", "PollRecord"]

Origin = Literal["env", "opml", "cli"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, title TEXT, origin TEXT NOT NULL, added_at TEXT NOT NULL,
    etag TEXT, last_modified TEXT, last_polled_at TEXT, last_status TEXT,
    http_status INTEGER, error_code TEXT, error_message TEXT, warning TEXT,
    failures INTEGER NOT NULL DEFAULT 0, next_poll_at TEXT, gone INTEGER NOT NULL DEFAULT 0,
    entries_seen INTEGER NOT NULL DEFAULT 0, entries_ingested INTEGER NOT NULL DEFAULT 0,
    claimed_until TEXT
);
CREATE TABLE IF NOT EXISTS feed_entries (
    key TEXT PRIMARY KEY, feed_url TEXT NOT NULL, article_id INTEGER, seen_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feed_entries_feed ON feed_entries (feed_url);
"""

_COLUMNS = (
    "url, title, origin, added_at, etag, last_modified, last_polled_at, last_status,"
    " http_status, error_code, error_message, warning, failures, next_poll_at, gone,"
    " entries_seen, entries_ingested"
)


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class FeedState:
    """A followed feed and how its polls went."""

    url: str
    title: str | None
    origin: str
    added_at: datetime
    etag: str | None
    last_modified: str | None
    last_polled_at: datetime | None
    last_status: str | None  # ok, not_modified, error, gone (None: never polled)
    http_status: int | None
    error_code: str | None
    error_message: str | None
    warning: str | None  # a problem short of an error (recovered XML, skipped entries)
    failures: int  # polls in a row that failed
    next_poll_at: datetime | None
    gone: bool
    entries_seen: int
    entries_ingested: int

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> FeedState:
        values = list(row)
        for index in (3, 6, 13):
            values[index] = _moment(values[index])
        values[14] = bool(values[14])
        return cls(*values)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("added_at", "last_polled_at", "next_poll_at"):
            data[name] = _text(data[name])
        data["validators"] = {"etag": data.pop("etag"),
                              "last_modified": data.pop("last_modified")}
        code, message = data.pop("error_code"), data.pop("error_message")
        data["last_error"] = {"code": code, "message": message} if code else None
        return data


@dataclass(frozen=True)
class PollRecord:
    """How one poll of a feed ended, as :meth:`FeedStore.record` writes it."""

    status: Literal["ok", "not_modified", "error", "gone"]
    next_poll_at: datetime | None
    http_status: int | None = None
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    warning: str | None = None
    ingested: int = 0


class FeedStore:
    """The feed tables, in the article store's SQLite file; safe to share between threads."""

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        self.path = path
        self._db = open_sqlite(path, _SCHEMA, what="feed state", timeout_s=timeout_s)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- which feeds ---------------------------------------------------------------------

    def add(self, url: str, *, origin: Origin, title: str | None = None,
            now: datetime | None = None) -> bool:
        """Follow ``url``; False when it was followed already (its state is kept)."""
        with storage_errors("could not add the feed"), self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO feeds (url, title, origin, added_at) VALUES (?, ?, ?, ?)",
                (url, title, origin, _text(now or datetime.now(UTC))),
            )
            self._db.commit()
        return cursor.rowcount == 1

    def remove(self, url: str) -> bool:
        """Stop following ``url`` (its entries stay seen)."""
        with storage_errors("could not remove the feed"), self._lock:
            cursor = self._db.execute("DELETE FROM feeds WHERE url = ?", (url,))
            self._db.commit()
        return cursor.rowcount == 1

    def sync_configured(self, urls: list[str]) -> None:
        """Follow the feeds of BRIEFING_FEEDS, and stop following those taken out of it."""
        for url in urls:
            self.add(url, origin="env")
        with storage_errors("could not update the feeds"), self._lock:
            marks = ",".join("?" * len(urls))
            self._db.execute(
                f"DELETE FROM feeds WHERE origin = 'env' AND url NOT IN ({marks})", urls
            )
            self._db.commit()

    def all(self) -> list[FeedState]:
        with storage_errors("could not read the feeds"), self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY added_at, url")
            return [FeedState.from_row(row) for row in rows.fetchall()]

    def get(self, url: str) -> FeedState | None:
        with storage_errors("could not read the feed"), self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?",
                                   (url,)).fetchone()
        return FeedState.from_row(row) if row else None

    # -- polling -------------------------------------------------------------------------

    def claim(self, url: str, now: datetime, *, lease_s: float, due_only: bool) -> bool:
        """Take the feed for one poll (no other poller takes it until the lease ends).

        ``due_only``: only when its next poll is due; otherwise whenever it is not backing
        off after errors. A gone feed is never claimed.
        """
        due = "next_poll_at IS NULL OR next_poll_at <= :now"
        condition = due if due_only else f"failures = 0 OR {due}"
        with storage_errors("could not claim the feed"), self._lock:
            cursor = self._db.execute(
                "UPDATE feeds SET claimed_until = :until WHERE url = :url AND gone = 0"
                " AND (claimed_until IS NULL OR claimed_until <= :now)"
                f" AND ({condition})",
                {"url": url, "now": _text(now),
                 "until": _text(now + timedelta(seconds=lease_s))},
            )
            self._db.commit()
        return cursor.rowcount == 1

    def record(self, url: str, now: datetime, poll: PollRecord) -> None:
        """Write how a poll ended, and release the claim."""
        failed = poll.status == "error"
        with storage_errors("could not record the poll"), self._lock:
            self._db.execute(
                "UPDATE feeds SET last_polled_at = ?, last_status = ?, http_status = ?,"
                " title = COALESCE(?, title), etag = CASE WHEN ? THEN ? ELSE etag END,"
                " last_modified = CASE WHEN ? THEN ? ELSE last_modified END,"
                " error_code = ?, error_message = ?, warning = ?,"
                " failures = CASE WHEN ? THEN failures + 1 ELSE 0 END, next_poll_at = ?,"
                " gone = ?, entries_ingested = entries_ingested + ?, claimed_until = NULL"
                " WHERE url = ?",
                (
                    _text(now), poll.status, poll.http_status, poll.title,
                    poll.status == "ok", poll.etag, poll.status == "ok", poll.last_modified,
                    poll.error_code, poll.error_message, poll.warning, failed,
                    _text(poll.next_poll_at), poll.status == "gone", poll.ingested, url,
                ),
            )
            self._db.commit()

    def next_due(self) -> datetime | None:
        """When the earliest next poll is (None: nothing to poll)."""
        with storage_errors("could not read the feeds"), self._lock:
            row = self._db.execute(
                "SELECT COUNT(*), MIN(COALESCE(next_poll_at, '')) FROM feeds WHERE gone = 0"
            ).fetchone()
        if not row[0]:
            return None
        return _moment(row[1]) or datetime.min.replace(tzinfo=UTC)

    # -- entries -------------------------------------------------------------------------

    def seen(self, keys: list[str]) -> bool:
        """Was any of these entry keys seen before (from any feed)?"""
        if not keys:
            return False
        with storage_errors("could not read the feed entries"), self._lock:
            marks = ",".join("?" * len(keys))
            row = self._db.execute(
                f"SELECT 1 FROM feed_entries WHERE key IN ({marks}) LIMIT 1", keys
            ).fetchone()
        return row is not None

    def mark_seen(self, feed_url: str, keys: list[str], article_id: int | None,
                  now: datetime) -> None:
        """Remember an entry by all its keys; the feed's count goes up once."""
        with storage_errors("could not record the feed entry"), self._lock:
            inserted = 0
            for key in dict.fromkeys(keys):
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO feed_entries (key, feed_url, article_id, seen_at)"
                    " VALUES (?, ?, ?, ?)", (key, feed_url, article_id, _text(now)),
                )
                inserted += cursor.rowcount
            if inserted:
                self._db.execute(
                    "UPDATE feeds SET entries_seen = entries_seen + 1 WHERE url = ?", (feed_url,)
                )
            self._db.commit()
