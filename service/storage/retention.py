"""Retention: article text and cached briefings older than ``BRIEFING_RETENTION_DAYS`` go,
and so do the keys of feed entries that no feed has listed for as long.

Storage would otherwise grow without bound. Retention never breaks an answer it gave: a
briefing goes only when it is older than the cutoff *and* no article still kept links to it
(``articles.briefing_id``, indexed), so an id answered stays readable as long as the article
that got it. A cache hit links today's article to a briefing written long ago and answers that
briefing's id: the briefing stays ``BRIEFING_RETENTION_DAYS`` more. Aliases go with their
briefing. A feed entry's ``seen_at`` (indexed) is when a poll last found it in its feed
(:meth:`service.storage.feeds.FeedStore.still_listed`), so an entry a feed still carries is never
forgotten and taken for a new one.

Digests and the delivery ledger stay: a digest already holds what its day's articles said,
and the ledger is what keeps a day from being posted twice. Deletes run in batches of
``batch`` rows, each its own short transaction, so a large first purge never holds a lock for
long (SQLite has one writer; PostgreSQL replicas keep writing beside it). Every replica runs
it on a schedule; running it twice deletes nothing more, so they need no coordination.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select

from service.errors import StorageError
from service.storage.database import Database
from service.storage.schema import (
    aliases,
    articles,
    briefings,
    entry_listings,
    feed_entries,
    leases,
)

# A lease row left behind by a process that died (released ones are deleted, or left with a
# short pause): gone a day after it expired.
STALE_LEASE = timedelta(days=1)

log = logging.getLogger(__name__)


def purge(
    database: Database, days: int, *, now: datetime | None = None, batch: int = 2000,
) -> dict[str, int]:
    """Delete articles received and feed entries last listed more than ``days`` ago, then
    briefings created more than ``days`` ago that no remaining article links to (with their
    aliases); the counts per table."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    counts = {
        "articles": _delete_in_batches(
            database, "articles", articles.c.id, articles.c.received_at < cutoff, batch),
        "briefings": 0,
        "feed_entries": _delete_in_batches(
            database, "feed entries", feed_entries.c.key, feed_entries.c.seen_at < cutoff,
            batch),
    }
    # Other feeds' listings of an entry live as long as the entry's key.
    orphan = ~select(feed_entries.c.key).where(
        feed_entries.c.key == entry_listings.c.key).correlate(entry_listings).exists()
    counts["entry_listings"] = _delete_in_batches(
        database, "feed entry listings", entry_listings.c.key, orphan, batch)
    expired = (now or datetime.now(UTC)) - STALE_LEASE
    counts["leases"] = _delete_in_batches(
        database, "leases", leases.c.name, leases.c.expires_at < expired.timestamp(), batch)
    # After the old articles: a briefing goes only when no article left links to it. A cache
    # hit links today's article to a briefing written long ago, and answers its id.
    unlinked = ~(select(articles.c.id).where(articles.c.briefing_id == briefings.c.key)
                 .correlate(briefings).exists())
    while True:
        with database.write("could not delete old briefings") as conn:
            keys = list(conn.execute(
                select(briefings.c.key).where(briefings.c.created_at < cutoff, unlinked)
                .limit(batch)
            ).scalars())
            gone: list[str] = []
            if keys:
                # Asked again as it deletes: an article linked since the select keeps it.
                gone = list(conn.execute(
                    delete(briefings).where(briefings.c.key.in_(keys), unlinked)
                    .returning(briefings.c.key)
                ).scalars())
            if gone:
                conn.execute(delete(aliases).where(aliases.c.key.in_(gone)))
        counts["briefings"] += len(gone)
        if len(keys) < batch:
            break
    return counts


def _delete_in_batches(
    database: Database, what: str, key: ColumnElement[Any], old: ColumnElement[bool],
    batch: int,
) -> int:
    """Delete the rows of ``key``'s table where ``old`` holds, ``batch`` rows a transaction;
    how many."""
    table = key.table  # type: ignore[attr-defined]
    deleted = 0
    while True:
        with database.write(f"could not delete old {what}") as conn:
            rows = select(key).where(old).limit(batch)
            gone = conn.execute(delete(table).where(key.in_(rows))).rowcount
        deleted += gone
        if gone < batch:
            return deleted


class RetentionJob:
    """Runs :func:`purge` now and then every ``interval_s`` on a background thread."""

    def __init__(
        self, database: Database, days: int, *, interval_s: float,
        on_deleted: Callable[[str, int], None] | None = None,
    ) -> None:
        self.database = database
        self.days = days
        self.interval_s = interval_s
        self.on_deleted = on_deleted
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("retention: articles, briefings and feed entries older than %d day(s) are "
                 "deleted every %gs", self.days, self.interval_s)

    def run_once(self) -> dict[str, int]:
        counts = purge(self.database, self.days)
        for table, count in counts.items():
            if self.on_deleted is not None:
                self.on_deleted(table, count)
        if any(counts.values()):
            log.info("retention: deleted %d article(s), %d briefing(s) and %d feed entry key(s) "
                     "older than %d day(s)", counts["articles"], counts["briefings"],
                     counts["feed_entries"], self.days)
        return counts

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except StorageError as exc:  # the database is away: the next round retries
                log.warning("retention: %s", exc.message)
            except Exception:  # a background thread must not die silently
                log.exception("retention failed")
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


__all__ = ["RetentionJob", "purge"]
