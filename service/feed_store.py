"""Feed state: the feeds followed, how their last poll went, and the entries already seen.

It lives in the service's database (tables ``feeds`` and ``feed_entries`` of
:mod:`service.storage.schema`, SQLite or PostgreSQL): an entry is marked seen in the same
database that holds the article made from it.

  feeds         one row per feed: where it came from (BRIEFING_FEEDS, an OPML import),
                where it moved for good (a 301 or 308: the next poll asks there), its
                validators (ETag, Last-Modified) for conditional requests, the last poll's
                status and error, failures in a row and the time of the next poll
                (backoff), whether it is gone (410), counts, and a claim that lets one
                poller (of several processes) poll it at a time
  feed_entries  keys of entries seen — ``guid:<feed>\\n<guid>``, ``url:<link>``,
                ``url:<canonical URL>`` — so no entry is fetched twice, from any feed;
                ``seen_at`` is when a poll last found the entry listed, and retention
                forgets keys no feed has listed for BRIEFING_RETENTION_DAYS
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, func, or_, select, update

from service.storage import Database
from service.storage.schema import feed_entries, feeds

__all__ = ["LISTED_REFRESH", "FeedState", "FeedStore", "PollRecord"]

# How stale an entry's ``seen_at`` may get before a poll that lists it again writes it.
LISTED_REFRESH = timedelta(days=1)
# Keys per UPDATE … IN (…): well under SQLite's bound parameters.
_KEYS_PER_STATEMENT = 500

Origin = Literal["env", "opml", "cli"]

_COLUMNS = (
    feeds.c.url, feeds.c.title, feeds.c.origin, feeds.c.added_at, feeds.c.etag,
    feeds.c.last_modified, feeds.c.last_polled_at, feeds.c.last_status, feeds.c.http_status,
    feeds.c.error_code, feeds.c.error_message, feeds.c.warning, feeds.c.failures,
    feeds.c.next_poll_at, feeds.c.gone, feeds.c.entries_seen, feeds.c.entries_ingested,
    feeds.c.moved_to,
)


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


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
    moved_to: str | None = None  # where a permanent redirect sent the last poll

    @property
    def poll_url(self) -> str:
        """Where the next poll asks: the feed's new home once it moved for good."""
        return self.moved_to or self.url

    @classmethod
    def from_row(cls, row: Any) -> FeedState:
        values = list(row)
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
    moved_to: str | None = None  # a permanent redirect's target (None: no news of a move)
    warning: str | None = None
    ingested: int = 0


class FeedStore:
    """The feed tables of the service's database; safe to share between threads."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""

    # -- which feeds ---------------------------------------------------------------------

    def add(self, url: str, *, origin: Origin, title: str | None = None,
            now: datetime | None = None) -> bool:
        """Follow ``url``; False when it was followed already (its state is kept)."""
        row = {"url": url, "title": title, "origin": origin,
               "added_at": now or datetime.now(UTC)}
        # RETURNING says whether the row was new (PostgreSQL's rowcount can not, here).
        statement = self.database.upsert(feeds, ["url"], update=[]).returning(feeds.c.url)
        with self.database.write("could not add the feed") as conn:
            return conn.execute(statement, row).first() is not None

    def remove(self, url: str) -> bool:
        """Stop following ``url`` (its entries stay seen)."""
        with self.database.write("could not remove the feed") as conn:
            return bool(conn.execute(delete(feeds).where(feeds.c.url == url)).rowcount)

    def sync_configured(self, urls: list[str]) -> None:
        """Follow the feeds of BRIEFING_FEEDS, and stop following those taken out of it."""
        for url in urls:
            self.add(url, origin="env")
        with self.database.write("could not update the feeds") as conn:
            conn.execute(delete(feeds).where(feeds.c.origin == "env", feeds.c.url.not_in(urls)))

    def all(self) -> list[FeedState]:
        with self.database.read("could not read the feeds") as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(feeds.c.added_at, feeds.c.url))
            return [FeedState.from_row(row) for row in rows.all()]

    def get(self, url: str) -> FeedState | None:
        with self.database.read("could not read the feed") as conn:
            row = conn.execute(select(*_COLUMNS).where(feeds.c.url == url)).first()
        return FeedState.from_row(row) if row is not None else None

    # -- polling -------------------------------------------------------------------------

    def claim(self, url: str, now: datetime, *, lease_s: float, due_only: bool) -> bool:
        """Take the feed for one poll (no other poller, in any process, takes it until the
        lease ends). ``due_only``: only when its next poll is due; otherwise whenever it is
        not backing off after errors. A gone feed is never claimed."""
        due = or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now)
        when = due if due_only else or_(feeds.c.failures == 0, due)
        free = or_(feeds.c.claimed_until.is_(None), feeds.c.claimed_until <= now)
        with self.database.write("could not claim the feed") as conn:
            result = conn.execute(
                update(feeds)
                .where(and_(feeds.c.url == url, feeds.c.gone == 0, free, when))
                .values(claimed_until=now + timedelta(seconds=lease_s))
            )
        return bool(result.rowcount)

    def record(self, url: str, now: datetime, poll: PollRecord) -> None:
        """Write how a poll ended, and release the claim."""
        values: dict[str, Any] = {
            "last_polled_at": now, "last_status": poll.status, "http_status": poll.http_status,
            "error_code": poll.error_code, "error_message": poll.error_message,
            "warning": poll.warning, "next_poll_at": poll.next_poll_at,
            "gone": int(poll.status == "gone"), "claimed_until": None,
            "entries_ingested": feeds.c.entries_ingested + poll.ingested,
            "failures": feeds.c.failures + 1 if poll.status == "error" else 0,
        }
        if poll.title:
            values["title"] = poll.title
        if poll.moved_to:  # back at the URL it was followed by: not moved any more
            values["moved_to"] = None if poll.moved_to == url else poll.moved_to
        if poll.status == "ok":  # a new answer's validators (None when it sent none)
            values["etag"] = poll.etag
            values["last_modified"] = poll.last_modified
        with self.database.write("could not record the poll") as conn:
            conn.execute(update(feeds).where(feeds.c.url == url).values(**values))

    def next_due(self) -> datetime | None:
        """When the earliest next poll is (None: nothing to poll; the distant past: now)."""
        with self.database.read("could not read the feeds") as conn:
            count, scheduled, earliest = conn.execute(
                select(func.count(feeds.c.url), func.count(feeds.c.next_poll_at),
                       func.min(feeds.c.next_poll_at)).where(feeds.c.gone == 0)
            ).one()
        if not count:
            return None
        if scheduled < count or earliest is None:  # a feed never polled is due now
            return datetime.min.replace(tzinfo=UTC)
        return earliest  # type: ignore[no-any-return]

    # -- entries -------------------------------------------------------------------------

    def seen(self, keys: list[str]) -> bool:
        """Was any of these entry keys seen before (from any feed)?"""
        if not keys:
            return False
        with self.database.read("could not read the feed entries") as conn:
            found = conn.execute(
                select(feed_entries.c.key).where(feed_entries.c.key.in_(keys)).limit(1)
            ).first()
        return found is not None

    def still_listed(self, keys: list[str], now: datetime, *,
                     feed_url: str | None = None) -> int:
        """A poll found these entries in their feed (``keys``), or found the feed unchanged
        (``feed_url``: a 304, every entry it recorded): their ``seen_at`` moves to ``now``,
        so retention, which forgets entries not listed for BRIEFING_RETENTION_DAYS, never
        forgets one a feed still carries (the next poll would take it for a new one). Rows
        are written at most once per ``LISTED_REFRESH``: a feed polled every few minutes
        does not rewrite its entries each time. The rows written."""
        stale = feed_entries.c.seen_at < now - LISTED_REFRESH
        written = 0
        with self.database.write("could not record the feed entries") as conn:
            if feed_url is not None:
                written += conn.execute(
                    update(feed_entries).where(feed_entries.c.feed_url == feed_url, stale)
                    .values(seen_at=now)).rowcount
            for start in range(0, len(keys), _KEYS_PER_STATEMENT):
                chunk = keys[start : start + _KEYS_PER_STATEMENT]
                written += conn.execute(
                    update(feed_entries).where(feed_entries.c.key.in_(chunk), stale)
                    .values(seen_at=now)).rowcount
        return written

    def mark_seen(self, feed_url: str, keys: list[str], article_id: int | None,
                  now: datetime) -> None:
        """Remember an entry by all its keys; the feed's count goes up once."""
        statement = self.database.upsert(feed_entries, ["key"], update=[]).returning(
            feed_entries.c.key)
        with self.database.write("could not record the feed entry") as conn:
            added = [
                conn.execute(statement, {"key": key, "feed_url": feed_url,
                                         "article_id": article_id, "seen_at": now}).first()
                for key in dict.fromkeys(keys)
            ]
            if any(row is not None for row in added):
                conn.execute(update(feeds).where(feeds.c.url == feed_url)
                             .values(entries_seen=feeds.c.entries_seen + 1))
