"""URLs and feeds in a running service: the fetchers, the feed state, the poller thread.

One :class:`Ingest` per process (the app's lifespan, or a CLI command; built by
:meth:`service.wiring.Wiring.ingest`) over the request path, so a page briefed by URL and a
feed's entry take the same path.
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
from service.ingest.fetch import Fetcher
from service.ingest.guard import AddressPolicy, HostTurns, Resolver
from service.ingest.opml import Subscription
from service.ingest.page import article_from_page
from service.ingest.poller import Clock, FeedPoller, PollerThread
from service.metrics import Metrics
from service.results import Briefing, FeedList
from service.storage.feeds import FeedStore
from service.storage.leases import LeaseStore

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
    """Fetching by URL and following feeds, for one request path.

    ``feeds``: the feed state; ``host_leases``: where hosts' turns are held (Redis, shared
    by the replicas, else the database)."""

    def __init__(
        self, settings: Settings, service: BriefingService, feeds: FeedStore,
        host_leases: LeaseStore, metrics: Metrics, *,
        resolver: Resolver | None = None, clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        # Pages asked for by a client: fetched at once. Feeds and their entries: one request
        # at a time per host across all replicas, and a pause between two (HostTurns), so a
        # site is never hit by parallel polls.
        self.fetcher = Fetcher.from_settings(
            settings, resolver=resolver, on_outcome=metrics.count_fetch
        )
        self.feeds = feeds
        # BRIEFING_FEEDS as this process sees it: applied by `briefing serve` only
        # (start_polling); other commands leave the followed feeds alone.
        self._configured = settings.feed_url_list
        self._difference: tuple[list[str], list[str]] = ([], [])
        turns = HostTurns(host_leases, interval_s=settings.fetch_host_interval_s,
                          ttl_s=settings.fetch_timeout_s + 5)
        poll_fetcher = Fetcher.from_settings(
            settings, resolver=resolver, host_turns=turns, on_outcome=metrics.count_fetch
        )
        self.poller = FeedPoller(settings, self.feeds, poll_fetcher, service,
                                 metrics=metrics, clock=clock)
        self._thread: PollerThread | None = None

    def apply_configured_feeds(self) -> tuple[list[str], list[str]]:
        """``briefing serve`` applies BRIEFING_FEEDS: follows what it lists and unfollows
        feeds it once listed and lists no more (imported feeds are never touched). With
        several replicas, the one that started last wins; the others log the difference at
        their next poll (:meth:`check_configured_feeds`) instead of changing it back."""
        added, removed = self.feeds.sync_configured(self._configured)
        if added or removed:
            log.info("BRIEFING_FEEDS applied: %d feed(s) followed (%s), %d no longer (%s)",
                     len(added), ", ".join(added) or "-", len(removed),
                     ", ".join(removed) or "-")
        return added, removed

    def check_configured_feeds(self) -> tuple[list[str], list[str]]:
        """How this process's BRIEFING_FEEDS differs from the feeds followed from it
        (another replica, started later, applied its own): logged once per difference."""
        difference = self.feeds.configured_difference(self._configured)
        if difference != self._difference and any(difference):
            missing, extra = difference
            log.warning(
                "BRIEFING_FEEDS here differs from the feeds followed (a replica started "
                "later applied its own list, and the last one started wins): listed here "
                "but not followed: %s; followed but not listed here: %s. Give every replica "
                "the same BRIEFING_FEEDS.", ", ".join(missing) or "-", ", ".join(extra) or "-")
        self._difference = difference
        return difference

    def start_polling(self) -> None:
        """Apply BRIEFING_FEEDS, then poll in the background (``briefing serve``), unless
        BRIEFING_FEEDS_POLL_S is 0."""
        self.apply_configured_feeds()
        self._difference = self.feeds.configured_difference(self._configured)
        if self.settings.feeds_poll_s <= 0:
            log.info("feed polling is off (BRIEFING_FEEDS_POLL_S=0)")
            return
        self._thread = PollerThread(self.poller, before_poll=self.check_configured_feeds)
        self._thread.start()
        log.info("polling %d feed(s) every %gs", len(self.feeds.all()),
                 self.settings.feeds_poll_s)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None

    # -- by URL --------------------------------------------------------------------------

    def brief_url(
        self, request: UrlRequest, lengths: Sequence[str] = LENGTHS, *,
        deadline: float | None = None, cancellation: Cancellation | None = None,
        min_words: int = 0, store: bool = True, language: str | None = None,
    ) -> Briefing:
        """Fetch the page behind the address guard, brief it, and say what the page is.

        The answer is the briefing with ``article``: the URL asked for, the URL fetched
        (after redirects) and the page's title, canonical URL, site name and date. The
        fetch is bounded by BRIEFING_FETCH_TIMEOUT_S; ``cancellation`` (or ``deadline``)
        ends the briefing's work as :meth:`BriefingService.brief` does, after the fetched
        page is stored; ``min_words``, ``store`` and ``language`` are passed on to it.
        """
        fetched = self.fetcher.fetch(request.url, kind="page")
        article, meta = article_from_page(
            fetched, url=request.url, title=request.title, source=request.source,
            published_at=request.published_at,
        )
        result = self.service.brief(article, lengths, deadline=deadline,
                                    cancellation=cancellation, min_words=min_words,
                                    store=store, language=language)
        return {**result, "article": {
            "url": request.url, "fetched_url": fetched.url, "title": article.title,
            "canonical_url": article.canonical_url, "site_name": meta.site_name,
            "source": article.source, "published_at": article.published_at,
        }}

    # -- feeds ---------------------------------------------------------------------------

    def feed_list(self) -> FeedList:
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
