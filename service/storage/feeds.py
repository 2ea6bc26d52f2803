"""Feed state: the feeds followed, how their last poll went, and the entries already seen.

It lives in the service's database (tables ``feeds`` and ``feed_entries`` of
:mod:`service.storage.schema`, SQLite or PostgreSQL): an entry is marked seen in the same
database that holds the article made from it.

  feeds         one row per feed: where it came from (BRIEFING_FEEDS, an OPML import),
                where it moved for good (a 301 or 308: the next poll asks there), its
                validators (ETag, Last-Modified) for conditional requests, the last poll's
                status and error, failures in a row and the time of the next poll
                (backoff), whether it is gone (410), counts
  feed_entries  keys of entries seen — ``guid:<feed>\\n<guid>``, ``url:<link>``,
                ``url:<canonical URL>`` — so no entry is fetched twice, from any feed;
                ``seen_at`` is when a poll last found the entry listed, and retention
                forgets keys no feed has listed for BRIEFING_RETENTION_DAYS
  entry_listings  another feed listing an entry that a first feed brought in: recorded
                there, never stored as a second article

Claims are leases (:mod:`service.storage.leases`, in the same database): ``feed:<url>`` lets
one poller of all processes and replicas poll a feed at a time, ``entry:<key>`` one poller
fetch and brief an entry's link at a time, whichever feeds list it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, select, update

from service.storage import Database
from service.storage.leases import DatabaseLeases, Lease
from service.storage.schema import entry_listings, feed_entries, feeds

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
        self.leases = DatabaseLeases(database)

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

    def sync_configured(self, urls: list[str]) -> tuple[list[str], list[str]]:
        """Follow the feeds of BRIEFING_FEEDS, and stop following those taken out of it
        (only ``briefing serve`` calls this); (followed now, no longer followed)."""
        added = [url for url in urls if self.add(url, origin="env")]
        with self.database.write("could not update the feeds") as conn:
            removed = list(conn.execute(
                delete(feeds).where(feeds.c.origin == "env", feeds.c.url.not_in(urls))
                .returning(feeds.c.url)).scalars())
        return added, removed

    def configured_difference(self, urls: list[str]) -> tuple[list[str], list[str]]:
        """How ``urls`` (a replica's BRIEFING_FEEDS) differs from the feeds followed from
        BRIEFING_FEEDS: (listed there but not followed, followed but not listed there)."""
        with self.database.read("could not read the feeds") as conn:
            followed = set(conn.execute(
                select(feeds.c.url).where(feeds.c.origin == "env")).scalars())
        return ([url for url in urls if url not in followed],
                sorted(followed.difference(urls)))

    def all(self) -> list[FeedState]:
        with self.database.read("could not read the feeds") as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(feeds.c.added_at, feeds.c.url))
            return [FeedState.from_row(row) for row in rows.all()]

    def get(self, url: str) -> FeedState | None:
        with self.database.read("could not read the feed") as conn:
            row = conn.execute(select(*_COLUMNS).where(feeds.c.url == url)).first()
        return FeedState.from_row(row) if row is not None else None

    # -- polling -------------------------------------------------------------------------

    def claim(self, url: str, now: datetime, *, ttl_s: float, max_s: float | None = None,
              due_only: bool) -> Lease | None:
        """The feed's lease for one poll (no other poller, in any process or replica, polls
        it while it is held), or None. ``due_only``: only when its next poll is due;
        otherwise whenever it is not backing off after errors. A gone feed is never
        claimed. The state is read once the lease is held, so a poll another poller just
        recorded is seen."""
        lease = Lease.take(self.leases, f"feed:{url}", ttl_s=ttl_s, max_s=max_s)
        if lease is None:
            return None
        state = self.get(url)
        due = state is not None and (state.next_poll_at is None or state.next_poll_at <= now)
        if state is None or state.gone or not (due or (not due_only and state.failures == 0)):
            lease.release()
            return None
        return lease

    def claim_entry(self, key: str, *, ttl_s: float, max_s: float | None = None
                    ) -> Lease | None:
        """The lease of an entry's link (or other key) while it is fetched and briefed: the
        one poller, of every feed and replica, that takes it fetches it; None: taken."""
        return Lease.take(self.leases, f"entry:{key}", ttl_s=ttl_s, max_s=max_s)

    def record(self, url: str, now: datetime, poll: PollRecord) -> None:
        """Write how a poll ended (the poller releases its claim after)."""
        values: dict[str, Any] = {
            "last_polled_at": now, "last_status": poll.status, "http_status": poll.http_status,
            "error_code": poll.error_code, "error_message": poll.error_message,
            "warning": poll.warning, "next_poll_at": poll.next_poll_at,
            "gone": int(poll.status == "gone"),
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

    def known(self, keys: list[str], feed_url: str) -> dict[str, bool]:
        """Of these keys, those seen before: key -> whether ``feed_url`` has it already (it
        brought the entry in, or is recorded as another listing of it)."""
        found: dict[str, bool] = {}
        with self.database.read("could not read the feed entries") as conn:
            for start in range(0, len(keys), _KEYS_PER_STATEMENT):
                chunk = keys[start : start + _KEYS_PER_STATEMENT]
                for key, owner in conn.execute(select(feed_entries.c.key, feed_entries.c.feed_url)
                                               .where(feed_entries.c.key.in_(chunk))):
                    found[key] = found.get(key, False) or owner == feed_url
                for key in conn.execute(select(entry_listings.c.key).where(
                        entry_listings.c.feed_url == feed_url,
                        entry_listings.c.key.in_(chunk))).scalars():
                    found[key] = True
        return found

    def add_listings(self, keys: list[str], feed_url: str, now: datetime) -> int:
        """``feed_url`` lists entries another feed brought in: recorded as listings of the
        same articles (no copy is stored); the feed's count of entries goes up by the new
        ones. How many were new."""
        if not keys:
            return 0
        statement = self.database.upsert(entry_listings, ["key", "feed_url"], update=[]
                                         ).returning(entry_listings.c.key)
        with self.database.write("could not record the feed entries") as conn:
            added = sum(
                conn.execute(statement, {"key": key, "feed_url": feed_url,
                                         "listed_at": now}).first() is not None
                for key in dict.fromkeys(keys))
            if added:
                conn.execute(update(feeds).where(feeds.c.url == feed_url)
                             .values(entries_seen=feeds.c.entries_seen + added))
        return added

    def listings(self, key: str) -> list[str]:
        """The feeds that list the entry ``key``: the one that brought it in, then others."""
        with self.database.read("could not read the feed entries") as conn:
            first = conn.execute(select(feed_entries.c.feed_url)
                                 .where(feed_entries.c.key == key)).scalars().all()
            others = conn.execute(select(entry_listings.c.feed_url)
                                  .where(entry_listings.c.key == key)
                                  .order_by(entry_listings.c.listed_at)).scalars().all()
        return list(dict.fromkeys([*first, *others]))

    def article_of(self, keys: list[str]) -> int | None:
        """The article stored for any of these entry keys (None: none yet)."""
        if not keys:
            return None
        with self.database.read("could not read the feed entries") as conn:
            return conn.execute(
                select(feed_entries.c.article_id).where(
                    feed_entries.c.key.in_(keys), feed_entries.c.article_id.is_not(None))
                .limit(1)).scalar()

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
