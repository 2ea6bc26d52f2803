"""The articles of a day (or since a moment): one listing for the API and the pages.

``GET /v1/articles?date=`` and the web pages read :class:`ArticleListing`; each article comes
with its metadata and its short briefing (from the cache, when it was briefed).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from service.config import Settings
from service.digest.window import day_window, parse_day
from service.errors import InvalidDate, StorageError, ValidationFailed
from service.results import ArticleList, ListedArticle
from service.storage.articles import ArticleStore, ArticleSummary
from service.storage.hot_cache import BriefingCache

__all__ = ["MAX_LISTED", "ArticleListing", "parse_since"]

MAX_LISTED = 1000


def parse_since(text: str) -> datetime:
    """An ISO 8601 moment (a date alone is its midnight in UTC); naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidDate(
            f"since={text[:40]!r} is not an ISO 8601 time: use e.g. 2026-11-30T08:00:00Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ArticleListing:
    """The stored articles as the API and the pages read them (opened by the wiring)."""

    def __init__(self, settings: Settings, store: ArticleStore, cache: BriefingCache) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache

    def listed(self, *, date: str | None = None, since: str | None = None,
               limit: int = MAX_LISTED) -> ArticleList:
        """``date`` (YYYY-MM-DD, a local day in BRIEFING_TIMEZONE) or ``since`` (ISO time):
        ``{"date"|"since", "timezone", "count", "articles": [...]}``, oldest first."""
        if (date is None) == (since is None):
            raise ValidationFailed("give either date=YYYY-MM-DD or since=<ISO 8601 time>")
        zone = self.settings.timezone
        if date is not None:
            start, end = day_window(parse_day(date), self.settings.zone)
            articles = self._articles(start, end, limit)
            return {"date": date, "timezone": zone, "count": len(articles),
                    "articles": articles}
        moment = parse_since(since or "")
        articles = self._articles(moment, None, limit)
        return {"since": moment.isoformat(), "timezone": zone, "count": len(articles),
                "articles": articles}

    def _articles(self, start: datetime, end: datetime | None, limit: int) -> list[ListedArticle]:
        return [_listed(row, self.cache) for row in self.store.summaries(start, end, limit=limit)]

    def of_briefing(self, briefing_id: str) -> ArticleSummary | None:
        """The latest article linked to a briefing (the one it was written for)."""
        return self.store.latest_with_briefing(briefing_id)


def _listed(row: ArticleSummary, cache: BriefingCache) -> ListedArticle:
    """The article's metadata, and its short briefing when the cache has it."""
    short = None
    if row.briefing_id:
        try:
            cached = cache.get(row.briefing_id)
        except StorageError:  # the listing still shows the article
            cached = None
        short = cached.get("short") if cached else None
    listed: ListedArticle = {**asdict(row), "received_at": row.received_at.isoformat(),
                             "short": short}
    return listed
