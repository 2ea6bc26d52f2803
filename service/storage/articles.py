"""Article store: every accepted article is written here before any generation starts.

So nothing a client was told "accepted" is lost when generation fails, and the daily digest
has the day's articles to work from. Each article keeps the digest's near-duplicate
fingerprint once the digest has computed it: the store only keeps the bytes, and the
:class:`Fingerprints` it is given (the digest's, :mod:`service.digest.fingerprint`, handed
over by :mod:`service.wiring`) compute and read them, so storage knows nothing of MinHash.
Built digests are kept here too, by (date, timezone).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update

from service.errors import StorageError
from service.storage import Database
from service.storage.schema import articles, digests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Article:
    """An accepted article as received (text before cleaning, metadata as given)."""

    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: str | None = None
    canonical_url: str | None = None  # the page's own <link rel="canonical">, when fetched
    site_name: str | None = None  # the page's site name (og:site_name), when fetched
    feed_url: str | None = None  # the feed it came from; None when it was sent or asked for


@dataclass(frozen=True)
class ArticleSummary:
    """An article as a list shows it: no text, its metadata and its briefing's id."""

    id: int
    title: str | None
    url: str | None
    canonical_url: str | None
    source: str | None
    site_name: str | None
    feed_url: str | None
    published_at: str | None
    received_at: datetime
    briefing_id: str | None


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: its row id, when it arrived, and what the digest needs."""

    id: int
    article: Article
    received_at: datetime
    content_hash: str
    briefing_id: str | None
    fingerprint: Any  # the digest's (Fingerprints.load); None when none could be computed


class Fingerprints(Protocol):
    """How the digest fingerprints an article (:data:`service.digest.fingerprint.ARTICLES`):
    the store keeps the bytes with their ``version`` and recomputes outdated ones."""

    version: str

    def compute(self, text: str) -> bytes: ...

    def load(self, stored: bytes) -> Any: ...


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ArticleStore:
    """Accepted articles (append-only but for retention) and built digests, in the database.

    ``fingerprints``: the digest's, to fill in missing or outdated fingerprints as a day's
    articles are read (:meth:`received_between`); without them, none are read or written.
    """

    def __init__(self, database: Database, fingerprints: Fingerprints | None = None) -> None:
        self.database = database
        self.fingerprints = fingerprints
        # told each new article's id once it is committed (the digests' alerts); a listener
        # must return at once (queue the work)
        self.listeners: list[Callable[[int], None]] = []

    def add(
        self, article: Article, *, received_at: datetime | None = None,
        briefing_id: str | None = None,
    ) -> int:
        """Store the article durably (committed) and return its row id. ``briefing_id``:
        the briefing that answers it, when known already (a cache hit), linked in the same
        write. Its fingerprint is the digest's to compute, when it reads the day."""
        row = {
            "content_hash": content_hash(article.text), "text": article.text,
            "title": article.title, "source": article.source, "url": article.url,
            "published_at": article.published_at, "canonical_url": article.canonical_url,
            "site_name": article.site_name, "feed_url": article.feed_url,
            "received_at": received_at or datetime.now(UTC), "briefing_id": briefing_id,
        }
        with self.database.write("could not store the article") as conn:
            new_id = conn.execute(insert(articles).returning(articles.c.id), row).scalar_one()
        for listener in self.listeners:
            try:
                listener(int(new_id))
            except Exception:  # the article is stored; an alert is not worth a failed request
                log.exception("article listener failed for article %d", new_id)
        return int(new_id)

    def link_briefing(self, article_id: int, briefing_id: str) -> None:
        """Remember which briefing answered an article (the digest reuses it)."""
        with self.database.write("could not update the article") as conn:
            conn.execute(update(articles).where(articles.c.id == article_id)
                         .values(briefing_id=briefing_id))

    def count(self) -> int:
        with self.database.read("could not count the articles") as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    def received_between(self, start: datetime, end: datetime) -> list[StoredArticle]:
        """Articles received in ``[start, end)`` (aware datetimes), oldest first.

        Outdated or missing fingerprints are computed (by the digest's
        :class:`Fingerprints`) and written back on the way.
        """
        prints = self.fingerprints
        with self.database.read("could not read the articles") as conn:
            rows = conn.execute(
                select(articles.c.id, articles.c.text, articles.c.title, articles.c.source,
                       articles.c.url, articles.c.published_at, articles.c.received_at,
                       articles.c.content_hash, articles.c.briefing_id,
                       articles.c.fingerprint, articles.c.fingerprint_version,
                       articles.c.canonical_url, articles.c.site_name, articles.c.feed_url)
                .where(articles.c.received_at >= start, articles.c.received_at < end)
                .order_by(articles.c.received_at, articles.c.id)
            ).all()
        found = []
        for row in rows:
            (id_, text, title, source, url, published, received_at, chash, briefing_id,
             blob, version, canonical, site, feed) = row
            if not start <= received_at < end:  # SQLite compares text: only a pre-filter
                continue
            if prints is not None and (blob is None or version != prints.version):
                blob = self._refresh_fingerprint(prints, id_, text)
            found.append(StoredArticle(
                id=id_,
                article=Article(text, title, source, url, published, canonical, site, feed),
                received_at=received_at, content_hash=chash, briefing_id=briefing_id,
                fingerprint=(prints.load(bytes(blob))
                             if prints is not None and blob is not None else None),
            ))
        return found

    def summaries(
        self, start: datetime, end: datetime | None = None, *, limit: int = 1000
    ) -> list[ArticleSummary]:
        """Articles received in ``[start, end)`` (``end`` None: until now), oldest first,
        at most ``limit``: what a list of articles shows, without their text."""
        query = select(
            articles.c.id, articles.c.title, articles.c.url, articles.c.canonical_url,
            articles.c.source, articles.c.site_name, articles.c.feed_url,
            articles.c.published_at, articles.c.received_at, articles.c.briefing_id,
        ).where(articles.c.received_at >= start)
        if end is not None:
            query = query.where(articles.c.received_at < end)
        with self.database.read("could not read the articles") as conn:
            rows = conn.execute(
                query.order_by(articles.c.received_at, articles.c.id).limit(limit)
            ).all()
        return [ArticleSummary(*row) for row in rows
                if row.received_at >= start and (end is None or row.received_at < end)]

    def latest_with_briefing(self, briefing_id: str) -> ArticleSummary | None:
        """The article most recently linked to a briefing (what a briefing's page is headed
        with: its title, source and link); None when no stored article links to it."""
        query = select(
            articles.c.id, articles.c.title, articles.c.url, articles.c.canonical_url,
            articles.c.source, articles.c.site_name, articles.c.feed_url,
            articles.c.published_at, articles.c.received_at, articles.c.briefing_id,
        ).where(articles.c.briefing_id == briefing_id)
        with self.database.read("could not read the articles") as conn:
            row = conn.execute(
                query.order_by(articles.c.received_at.desc(), articles.c.id.desc()).limit(1)
            ).first()
        return ArticleSummary(*row) if row is not None else None

    def _refresh_fingerprint(
        self, prints: Fingerprints, article_id: int, text: str
    ) -> bytes | None:
        try:
            blob = prints.compute(text)
        except Exception:  # noqa: BLE001 - one article's fingerprint must not cost the digest
            log.exception("fingerprint of article %d failed; it is grouped by its exact text",
                          article_id)
            return None
        try:
            with self.database.write("could not store the fingerprint") as conn:
                conn.execute(update(articles).where(articles.c.id == article_id)
                             .values(fingerprint=blob, fingerprint_version=prints.version))
        except StorageError as exc:  # the digest can use it anyway; next time it retries
            log.warning("could not store the fingerprint of article %d: %s", article_id,
                        exc.message)
        return blob

    # -- built digests -------------------------------------------------------------------

    def save_digest(self, day: str, timezone: str, digest: dict[str, Any], *,
                    name: str = "daily") -> None:
        """Keep the digest ``name`` built for ``day`` (its period) in ``timezone``
        (replacing an earlier build)."""
        row = {"name": name, "day": day, "timezone": timezone,
               "digest": json.dumps(digest, ensure_ascii=False), "built_at": datetime.now(UTC)}
        with self.database.write("could not store the digest") as conn:
            conn.execute(self.database.upsert(digests, ["name", "day", "timezone"]), row)

    def load_digest(self, day: str, timezone: str, *,
                    name: str = "daily") -> dict[str, Any] | None:
        """The digest ``name`` built for ``day`` in ``timezone``, or None."""
        with self.database.read("could not read the digest") as conn:
            found = conn.execute(
                select(digests.c.digest)
                .where(digests.c.name == name, digests.c.day == day,
                       digests.c.timezone == timezone)
            ).scalar_one_or_none()
        return json.loads(found) if found is not None else None

    def earlier_digest(self, name: str, timezone: str, before: str) -> dict[str, Any] | None:
        """The digest ``name`` of the latest period before ``before`` (periods sort as text),
        or None."""
        with self.database.read("could not read the digest") as conn:
            found = conn.execute(
                select(digests.c.digest)
                .where(digests.c.name == name, digests.c.timezone == timezone,
                       digests.c.day < before)
                .order_by(digests.c.day.desc()).limit(1)
            ).scalar_one_or_none()
        return json.loads(found) if found is not None else None
