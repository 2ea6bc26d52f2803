"""The one schema of everything the service keeps, for SQLite and PostgreSQL alike.

SQLAlchemy Core tables (no ORM): the stores build their statements from these, and the
Alembic migrations in ``service/storage/migrations`` create them. A test compares the two, so
a column added here without a migration fails.

    articles    every accepted article, stored (committed) before any work starts
    briefings   the cache: results by content-addressed key
    aliases     raw-text keys leading to a ``briefings`` key (a repeated POST skips cleaning)
    digests     built digests by (digest name, period, time zone)
    deliveries  the delivery ledger: one row per (digest, period, time zone, destination id)
    feeds       the feeds followed: validators, the last poll, backoff, a claim
    feed_entries  keys of feed entries seen (guid, link, canonical URL): never fetched twice
    entry_listings  another feed listing an entry a first feed brought in (no second copy)
    leases      every lease taken in the database: owner and expiry (storage/leases.py)
    digest_runs digest runs started over HTTP, their state seen by every replica

Times are :class:`UTCDateTime`: aware datetimes in and out; ``timestamptz`` in PostgreSQL,
ISO 8601 text in UTC in SQLite (the format the files had before migrations, so old files keep
their rows and their order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

# Constraint names spelled out, so migrations name them the same on both backends.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime: ``timestamptz`` in PostgreSQL, ISO 8601 UTC text in SQLite.

    Naive datetimes are refused (they are ambiguous). SQLite text compares in time order
    because every value is UTC with the same layout.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous here: give it a time zone")
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid (an auto-increment id).
_ID = BigInteger().with_variant(Integer(), "sqlite")

articles = Table(
    "articles", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("content_hash", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("source", Text),
    Column("url", Text),
    Column("published_at", Text),
    Column("received_at", UTCDateTime, nullable=False),
    Column("briefing_id", String(64)),
    Column("fingerprint", LargeBinary),
    Column("fingerprint_version", String(32)),
    # where an article fetched by URL or from a feed came from (service/ingest; 0002)
    Column("canonical_url", Text),
    Column("site_name", Text),
    Column("feed_url", Text),
    Index("ix_articles_received_at", "received_at"),
    # retention keeps a briefing any recent article links to (0004)
    Index("ix_articles_briefing_id", "briefing_id"),
)

briefings = Table(
    "briefings", metadata,
    Column("key", String(64), primary_key=True),
    Column("result", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_briefings_created_at", "created_at"),
)

aliases = Table(
    "aliases", metadata,
    Column("alias", String(64), primary_key=True),
    Column("key", String(64), nullable=False),
    Index("ix_aliases_key", "key"),
)

digests = Table(
    "digests", metadata,
    Column("name", String(64), primary_key=True, server_default="daily"),  # the digest (0005)
    # the period: YYYY-MM-DD (day, week: its last day), YYYY-MM-DDTHH:MM (since_last) (0005)
    Column("day", String(32), primary_key=True),
    Column("timezone", String(64), primary_key=True),
    Column("digest", Text, nullable=False),
    Column("built_at", UTCDateTime, nullable=False),
)

deliveries = Table(
    "deliveries", metadata,
    Column("digest", String(64), primary_key=True, server_default="daily"),  # its name (0005)
    # the digest's period (as digests.day), or alert:<article id> for an alert (0005)
    Column("day", String(32), primary_key=True),
    Column("timezone", String(64), primary_key=True),
    Column("webhook_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("payloads", Text),
    Column("total", Integer),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
)

feeds = Table(
    "feeds", metadata,
    Column("url", Text, primary_key=True),
    Column("title", Text),
    Column("origin", String(16), nullable=False),  # env (BRIEFING_FEEDS), opml, cli
    Column("added_at", UTCDateTime, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_polled_at", UTCDateTime),
    Column("last_status", String(16)),  # ok, not_modified, error, gone
    Column("http_status", Integer),
    Column("error_code", String(32)),
    Column("error_message", Text),
    Column("warning", Text),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_poll_at", UTCDateTime),
    Column("gone", Integer, nullable=False, server_default="0"),
    Column("entries_seen", Integer, nullable=False, server_default="0"),
    Column("entries_ingested", Integer, nullable=False, server_default="0"),
    # where a permanent redirect sent the last poll: the next one asks there (0003)
    Column("moved_to", Text),
)

feed_entries = Table(
    "feed_entries", metadata,
    Column("key", Text, primary_key=True),  # guid:<feed>\n<guid>, url:<link or canonical>
    Column("feed_url", Text, nullable=False),
    Column("article_id", BigInteger().with_variant(Integer(), "sqlite")),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_feed_entries_feed_url", "feed_url"),
    Index("ix_feed_entries_seen_at", "seen_at"),  # retention (0004)
)

entry_listings = Table(
    "entry_listings", metadata,
    Column("key", Text, primary_key=True),  # the entry's key in feed_entries
    Column("feed_url", Text, primary_key=True),  # a feed that lists it too
    Column("listed_at", UTCDateTime, nullable=False),
    Index("ix_entry_listings_listed_at", "listed_at"),
)

leases = Table(
    "leases", metadata,
    Column("name", Text, primary_key=True),  # feed:<url>, entry:<key>, host:<host>, delivery:…
    Column("owner", Text),  # None: free (a host's pause after its last request)
    Column("expires_at", Double, nullable=False),  # seconds since the epoch
)

digest_runs = Table(
    "digest_runs", metadata,
    Column("name", String(64), primary_key=True),  # the digest ("daily")
    Column("day", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # queued, running, done, failed
    Column("deliver", Integer, nullable=False),
    Column("force", Integer, nullable=False),
    Column("owner", Text),  # the process running it
    Column("queued_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("delivery", Text),  # JSON
    Column("error", Text),  # JSON
)

# Where each digest's alert scan has read the articles to (0006): the next scan, in any
# replica or after a restart, reads the articles received since (less a short overlap).
alert_marks = Table(
    "alert_marks", metadata,
    Column("digest", String(64), primary_key=True),
    Column("scanned_to", UTCDateTime, nullable=False),
)

__all__ = [
    "UTCDateTime", "alert_marks", "aliases", "articles", "briefings", "deliveries",
    "digest_runs", "digests", "entry_listings", "feed_entries", "feeds", "leases", "metadata",
]
