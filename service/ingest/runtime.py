"""URLs and feeds in a running service: the fetchers, the feed state, the poller thread.

One :class:`Ingest` per process (the app's lifespan, or a CLI command) over the same
BriefingService, so a page briefed by URL and a feed's entry take the same request path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.briefing import LENGTHS, BriefingService
from service.cancellation import Cancellation
from service.config import Settings
from service.errors import UrlNotAllowed
from service.feed_store import FeedStore
from service.ingest.fetch import Fetcher
from service.ingest.guard import AddressPolicy, HostLocks, Resolver
from service.ingest.opml import Subscription
from service.ingest.page import article_from_page
from service.ingest.poller import Clock, FeedPoller, PollerThread
from service.metrics import Metrics

__all__ = ["Ingest", "UrlRequest", "follow_feeds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UrlRequest:
    """``POST /v1/briefings {"url": ...}``: the URL, and what the caller says about it."""

    url: str
    title: str | None = None
    source: str | None = None
    published_at: str | None = None


class Ingest:
    """Fetching by URL and following feeds, for one BriefingService."""

    def __init__(
        self, settings: Settings, service: BriefingService, metrics: Metrics, *,
        resolver: Resolver | None = None, clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        # Pages asked for by a client: fetched at once. Feeds and their entries: one request
        # at a time per host (HostLocks), so a site is never hit by parallel polls.
        self.fetcher = Fetcher.from_settings(
            settings, resolver=resolver, on_outcome=metrics.count_fetch
        )
        if service.database is None:
            raise ValueError("feeds need the service's database (BriefingService.open)")
        self.feeds = FeedStore(service.database)
        self.feeds.sync_configured(settings.feed_url_list)
        poll_fetcher = Fetcher.from_settings(
            settings, resolver=resolver, host_locks=HostLocks(), on_outcome=metrics.count_fetch
        )
        self.poller = FeedPoller(settings, self.feeds, poll_fetcher, service,
                                 metrics=metrics, clock=clock)
        self._thread: PollerThread | None = None

    def start_polling(self) -> None:
        """Poll in the background (``briefing serve``), unless BRIEFING_FEEDS_POLL_S is 0."""
        if self.settings.feeds_poll_s <= 0:
            log.info("feed polling is off (BRIEFING_FEEDS_POLL_S=0)")
            return
        self._thread = PollerThread(self.poller)
        self._thread.start()
        log.info("polling %d feed(s) every %gs", len(self.feeds.all()),
                 self.settings.feeds_poll_s)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None
        self.feeds.close()

    # -- by URL --------------------------------------------------------------------------

    def brief_url(
        self, request: UrlRequest, lengths: Sequence[str] = LENGTHS, *,
        deadline: float | None = None, cancellation: Cancellation | None = None,
    ) -> dict[str, Any]:
        """Fetch the page behind the address guard, brief it, and say what the page is.

        The answer is the briefing with ``article``: the URL asked for, the URL fetched
        (after redirects) and the page's title, canonical URL, site name and date. The
        fetch is bounded by BRIEFING_FETCH_TIMEOUT_S; ``cancellation`` (or ``deadline``)
        ends the briefing's work as :meth:`BriefingService.brief` does, after the fetched
        page is stored.
        """
        fetched = self.fetcher.fetch(request.url, kind="page")
        article, meta = article_from_page(
            fetched, url=request.url, title=request.title, source=request.source,
            published_at=request.published_at,
        )
        result = self.service.brief(article, lengths, deadline=deadline,
                                    cancellation=cancellation)
        return {**result, "article": {
            "url": request.url, "fetched_url": fetched.url, "title": article.title,
            "canonical_url": article.canonical_url, "site_name": meta.site_name,
            "source": article.source, "published_at": article.published_at,
        }}

    # -- feeds ---------------------------------------------------------------------------

    def feed_list(self) -> dict[str, Any]:
        """Every followed feed with its state (``GET /v1/feeds``)."""
        feeds = [state.as_dict() for state in self.feeds.all()]
        return {"count": len(feeds), "poll_interval_s": self.settings.feeds_poll_s,
                "feeds": feeds}


def follow_feeds(
    store: FeedStore, policy: AddressPolicy, subscriptions: list[Subscription]
) -> dict[str, list[Any]]:
    """Follow each subscription whose URL the guard accepts; the others are listed as
    refused with the reason (an OPML file may hold a file: URL or an intranet address)."""
    added: list[str] = []
    known: list[str] = []
    refused: list[dict[str, str]] = []
    for sub in subscriptions:
        try:
            policy.check_url(sub.url)
        except UrlNotAllowed as exc:
            refused.append({"url": sub.url, "reason": exc.message})
            continue
        new = store.add(sub.url, origin="opml", title=sub.title, now=datetime.now(UTC))
        (added if new else known).append(sub.url)
    return {"added": added, "already_followed": known, "refused": refused}
