"""Following feeds: poll each one, ingest its new entries, back off when it fails.

``FeedPoller.poll()`` polls the feeds that are due (``briefing serve`` runs it in
:class:`PollerThread` every ``BRIEFING_FEEDS_POLL_S``; ``briefing feeds poll`` once). For
each feed, under its lease (``feed:<url>``, :mod:`service.storage.leases`) so that one
poller of all processes and replicas polls it at a time; the lease is renewed while the poll
runs and bounds it: entries not reached by its deadline wait for the next poll.

  1. fetch it conditionally (If-None-Match / If-Modified-Since from the last answer), at
     the URL it moved to when a poll was permanently redirected (301, 308; the feed keeps
     the URL it was followed by); 304 ends the poll: nothing else is fetched (its entries
     are still listed)
  2. parse it (:func:`service.ingest.feeds.parse_feed`)
  3. the entries seen before are marked still listed (retention keeps them); one that
     another feed brought in is recorded as this feed's listing of it, never stored twice.
     The entries not seen before, newest first by date (feed order when undated), at most
     ``BRIEFING_FEEDS_MAX_ENTRIES``: each under the lease of its link (``entry:<key>``),
     so two feeds or replicas listing one link fetch it once; use the entry's content when
     the feed carries the whole article, else fetch its page through the guarded fetcher
     (either way its main text is stored); a page whose canonical URL is already known is
     recorded as a listing too. Brief it through the normal request path, stored with the
     feed as its source, so it lands in the day's digest
  4. record the outcome: validators, counts, the error if any, and the next poll:
     ``BRIEFING_FEEDS_POLL_S`` later, or after a backoff that doubles with each failure in
     a row (at most ``BRIEFING_FEEDS_MAX_BACKOFF_S``), never sooner than a Retry-After;
     410 Gone marks the feed gone and it is not polled again

A feed's failure is recorded for that feed; the others go on. Feeds are grouped by host
and each host's feeds are polled one after another; the fetcher's host turns
(:class:`service.ingest.guard.HostTurns`) keep it to one request at a time per host across
groups, processes and replicas, with a pause between two (BRIEFING_FETCH_HOST_INTERVAL_S).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from service.config import Settings
from service.errors import (
    BriefingError,
    EmptyText,
    FetchFailed,
    FetchTimeout,
    InvalidFeed,
)
from service.ingest.feeds import Entry, Feed, normalize_url, parse_feed
from service.ingest.fetch import Fetcher
from service.ingest.page import article_from_page, article_text
from service.metrics import Metrics
from service.storage.articles import Article
from service.storage.feeds import FeedState, FeedStore, PollRecord
from service.storage.leases import Lease

__all__ = ["FeedPoller", "PollResult", "PollerThread"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class ArticleBriefer(Protocol):
    """What the poller needs of the request path (BriefingService.brief)."""

    def brief(self, article: Article, *, deadline: float | None = ...,
              on_stored: Callable[[int], None] | None = ...) -> dict[str, Any]: ...


@dataclass
class PollResult:
    """One feed's poll, as `briefing feeds poll` prints it."""

    url: str
    status: str  # ok, not_modified, error, gone, skipped (not due, or claimed elsewhere)
    http_status: int | None = None
    ingested: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    reason: str | None = None  # skipped: why (polled elsewhere, backing off, not due)


class FeedPoller:
    """Polls the followed feeds (see the module docstring)."""

    def __init__(
        self, settings: Settings, store: FeedStore, fetcher: Fetcher,
        briefer: ArticleBriefer, *, metrics: Metrics | None = None, clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.briefer = briefer
        self.metrics = metrics
        self.clock = clock or (lambda: datetime.now(UTC))
        self.interval = timedelta(seconds=settings.feeds_poll_s)
        # Leases are renewed every third of ttl_s while their work runs, so a poller that
        # died holds a feed or a link for at most ttl_s.
        self.lease_ttl_s = max(30.0, settings.fetch_timeout_s * 2)
        # One entry: its page fetched, then briefed.
        self.entry_budget_s = settings.fetch_timeout_s * 2 + settings.request_timeout_s
        # One poll: at most the poll interval (the next poll carries on), but at least five
        # minutes (with the poller off, `feeds poll` from cron) and one entry's worth.
        self.poll_budget_s = max(settings.feeds_poll_s, 300.0,
                                 settings.fetch_timeout_s + self.entry_budget_s)

    # -- scheduling ----------------------------------------------------------------------

    def poll(self, *, due_only: bool = True,
             stop: threading.Event | None = None) -> list[PollResult]:
        """Poll the feeds that are due (``due_only=False``: every feed not backing off)."""
        groups: dict[str, list[FeedState]] = {}
        for state in self.store.all():
            if not state.gone:
                groups.setdefault(_host(state.url), []).append(state)
        if not groups:
            return []

        def poll_group(states: list[FeedState]) -> list[PollResult]:
            done = []
            for state in states:
                if stop is not None and stop.is_set():
                    break
                done.append(self.poll_feed(state.url, due_only=due_only))
            return done

        workers = min(self.settings.feeds_concurrency, len(groups))
        with ThreadPoolExecutor(workers, thread_name_prefix="feed-poll") as pool:
            results = [r for group in pool.map(poll_group, groups.values()) for r in group]
        return results

    def seconds_until_next(self, *, most: float = 60.0) -> float:
        """How long the poller may sleep: until the earliest due feed, at most ``most``
        seconds (so feeds added by `briefing feeds import` are not left waiting long)."""
        due = self.store.next_due()
        if due is None:
            return most
        return min(max((due - self.clock()).total_seconds(), 0.0), most)

    # -- one feed ------------------------------------------------------------------------

    def poll_feed(self, url: str, *, due_only: bool = False) -> PollResult:
        """Poll one feed now (when it is due, or not backing off); its outcome recorded."""
        now = self.clock()
        lease = self.store.claim(url, now, ttl_s=self.lease_ttl_s, max_s=self.poll_budget_s,
                                 due_only=due_only)
        if lease is None:
            return PollResult(url, "skipped", reason=self._skip_reason(url, now, due_only))
        with lease.kept():
            state = self.store.get(url)
            assert state is not None
            result = PollResult(url, "error")
            try:
                record = self._poll(state, now, result, lease)
            except Exception as exc:  # noqa: BLE001 - one feed's bug must not stop the others
                log.exception("polling %s failed", url)
                record = self._failed(state, now, "internal_error", f"polling failed: {exc}")
            self.store.record(url, self.clock(), record)
        result.status, result.http_status = record.status, record.http_status
        result.error = record.error_message
        if self.metrics is not None:
            self.metrics.feed_polls.labels(record.status).inc()
        log.info("feed %s: %s%s, %d new", url, record.status,
                 f" ({record.error_message})" if record.error_message else "",
                 record.ingested)
        return result

    def _skip_reason(self, url: str, now: datetime, due_only: bool) -> str:
        """Why the feed could not be claimed (see FeedStore.claim), in words."""
        state = self.store.get(url)
        if state is None:
            return "no longer followed"
        if state.gone:
            return "gone (answered 410 Gone): not polled again"
        due = state.next_poll_at is None or state.next_poll_at <= now
        if due or (not due_only and state.failures == 0):
            return "claimed by another poller (another process or replica is polling it)"
        assert state.next_poll_at is not None
        until = state.next_poll_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if state.failures:
            return f"backing off after {state.failures} failed poll(s) in a row, until {until}"
        return f"not due until {until}"

    def _poll(self, state: FeedState, now: datetime, result: PollResult,
              lease: Lease) -> PollRecord:
        # 1. fetch, conditionally
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        try:
            fetched = self.fetcher.fetch(state.poll_url, kind="feed", headers=headers)
        except FetchFailed as exc:
            if exc.upstream_status == 410:
                return PollRecord("gone", None, 410, error_code="gone",
                                  error_message=f"{exc.message}: the feed is gone; it is not "
                                  "polled again")
            return self._failed(state, now, exc.code, exc.message, exc.upstream_status,
                                exc.upstream_retry_after_s)
        except BriefingError as exc:
            return self._failed(state, now, exc.code, exc.message)
        # A permanent redirect (every hop 301 or 308): the next poll asks the new URL first.
        moved_to = fetched.url if fetched.moved_permanently else None
        if fetched.not_modified:
            self.store.still_listed([], now, feed_url=state.url)  # its entries are all there
            return PollRecord("not_modified", now + self.interval, 304, moved_to=moved_to)
        # 2. parse
        try:
            feed = parse_feed(fetched.body, url=fetched.url, media_type=fetched.media_type)
        except InvalidFeed as exc:
            return self._failed(state, now, exc.code, exc.message, fetched.status)
        # 3. new entries
        ingested = self._ingest(state, feed, result, lease)
        notes = ([feed.warning] if feed.warning else []) + result.notes
        # 4. record
        return PollRecord(
            "ok", now + self.interval, fetched.status, title=feed.title,
            etag=fetched.headers.get("etag"), last_modified=fetched.headers.get("last-modified"),
            warning="; ".join(notes)[:2000] or None, ingested=ingested, moved_to=moved_to,
        )

    def _failed(
        self, state: FeedState, now: datetime, code: str, message: str,
        http_status: int | None = None, retry_after_s: float | None = None,
    ) -> PollRecord:
        """An error: the next poll waits the interval doubled per failure in a row, and at
        least what the site's Retry-After asked, within BRIEFING_FEEDS_MAX_BACKOFF_S."""
        failures = state.failures + 1
        wait = self.settings.feeds_poll_s * 2 ** min(failures - 1, 30)
        wait = max(wait, retry_after_s or 0.0)
        wait = min(wait, self.settings.feeds_max_backoff_s)
        return PollRecord("error", now + timedelta(seconds=wait), http_status,
                          error_code=code, error_message=message[:2000])

    def _ingest(self, state: FeedState, feed: Feed, result: PollResult, lease: Lease) -> int:
        source = feed.title or state.title or _host(state.url)
        skipped_no_link = 0
        candidates: list[tuple[Entry, list[str]]] = []
        for entry in feed.entries:
            keys = entry.keys(state.url)
            if entry.content_html and not keys:
                digest = hashlib.sha256(entry.content_html.encode()).hexdigest()
                keys = [f"content:{state.url}\n{digest}"]
            if not keys or (not entry.link and not entry.content_html):
                skipped_no_link += 1
                continue
            candidates.append((entry, keys))
        now = self.clock()
        every_key = [key for _, keys in candidates for key in keys]
        known = self.store.known(every_key, state.url)
        # Entries seen before and still listed: retention must not forget them; those
        # another feed brought in become this feed's listings of the same article.
        self.store.still_listed(list(known), now)
        self.store.add_listings(
            [next(k for k in keys if k in known) for _, keys in candidates
             if any(k in known for k in keys) and not any(known.get(k) for k in keys)],
            state.url, now)
        fresh = [(entry, keys) for entry, keys in candidates
                 if not any(k in known for k in keys)]
        for entry, keys in newest_first(fresh)[: self.settings.feeds_max_entries]:
            if lease.over:
                result.notes.append("the poll's time ran out; the remaining new entries "
                                    "wait for the next poll")
                break
            if self._ingest_entry(state, entry, source, keys, result, lease):
                result.ingested += 1
                if self.metrics is not None:
                    self.metrics.feed_entries.inc()
        if skipped_no_link:
            result.notes.append(f"{skipped_no_link} entries without a link or content skipped")
        return result.ingested

    def _ingest_entry(self, state: FeedState, entry: Entry, source: str, keys: list[str],
                      result: PollResult, lease: Lease) -> bool:
        """One new entry, under the lease of its link: no other poller fetches it meanwhile.
        Taken by another poller: left for the next poll, which finds it stored (and records
        this feed's listing of it) or takes it up if that poller failed."""
        left = lease.remaining()
        claim = self.store.claim_entry(
            keys[-1], ttl_s=self.lease_ttl_s,
            max_s=self.entry_budget_s if left is None else min(self.entry_budget_s, left))
        if claim is None:
            return False
        held: list[Lease] = []
        try:
            with claim.kept():
                if self.store.seen(keys):  # brought in by another poller since we looked
                    self.store.add_listings([keys[-1]], state.url, self.clock())
                    return False
                article = self._article(state, entry, source, keys, result, held)
                if article is None:
                    return False
                return self._brief(state, entry, article, keys, result, claim)
        finally:
            for extra in held:
                extra.release()

    def _article(
        self, state: FeedState, entry: Entry, source: str, keys: list[str],
        result: PollResult, held: list[Lease],
    ) -> Article | None:
        """The entry as an article: its content, or its page (None when not to ingest)."""
        if entry.content_html:
            return Article(
                text=article_text(entry.content_html), title=entry.title, source=source,
                url=entry.link, published_at=entry.published_at, feed_url=state.url,
            )
        assert entry.link is not None
        try:
            page = self.fetcher.fetch(entry.link, kind="page")
        except BriefingError as exc:
            result.notes.append(f"entry {entry.link}: {exc.code}: {exc.message}"[:300])
            retry = isinstance(exc, FetchTimeout) or (
                isinstance(exc, FetchFailed)
                and (exc.upstream_status is None or exc.upstream_status in (429,)
                     or exc.upstream_status >= 500)
            )
            if not retry:  # refused for good: never fetched again
                self.store.mark_seen(state.url, keys, None, self.clock())
            return None
        article, _ = article_from_page(
            page, url=entry.link, title=entry.title, source=source,
            published_at=entry.published_at, feed_url=state.url,
        )
        if article.canonical_url:
            canonical = f"url:{normalize_url(article.canonical_url)}"
            if canonical not in keys:
                # Another link to a page already known (or being fetched by another
                # poller): this feed lists that article; no second copy.
                extra = self.store.claim_entry(canonical, ttl_s=self.lease_ttl_s)
                if extra is None:  # being fetched through another link: the next poll
                    return None
                held.append(extra)
                if self.store.seen([canonical]):
                    self.store.mark_seen(state.url, keys, self.store.article_of([canonical]),
                                         self.clock())
                    self.store.add_listings([canonical], state.url, self.clock())
                    return None
                keys.append(canonical)
        return article

    def _brief(
        self, state: FeedState, entry: Entry, article: Article, keys: list[str],
        result: PollResult, claim: Lease,
    ) -> bool:
        """Store and brief; the entry is marked seen as soon as its article is stored."""
        stored: list[int] = []

        def seen(article_id: int) -> None:
            stored.append(article_id)
            self.store.mark_seen(state.url, keys, article_id, self.clock())

        try:
            self.briefer.brief(article, on_stored=seen, deadline=_monotonic(claim))
        except EmptyText:
            self.store.mark_seen(state.url, keys, None, self.clock())
            result.notes.append(f"entry {entry.link or entry.guid}: no text to brief")
        except BriefingError as exc:  # stored: the digest briefs it when it runs
            log.warning("feed %s: entry %s stored, not briefed: %s", state.url,
                        entry.link or entry.guid, exc.message)
        return bool(stored)

def newest_first(entries: list[tuple[Entry, list[str]]]) -> list[tuple[Entry, list[str]]]:
    """Dated entries newest first, then the undated ones in feed order (a feed may list its
    items oldest first: its new ones are at the end)."""
    dated = [item for item in entries if item[0].published_at]
    undated = [item for item in entries if not item[0].published_at]
    dated.sort(key=lambda item: _when(item[0].published_at), reverse=True)
    return dated + undated


def _when(published_at: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat(published_at or "")
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _monotonic(lease: Lease) -> float | None:
    left = lease.remaining()
    return None if left is None else time.monotonic() + left


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url


class PollerThread:
    """Runs :meth:`FeedPoller.poll` in the background of ``briefing serve``."""

    def __init__(self, poller: FeedPoller, *,
                 before_poll: Callable[[], object] | None = None) -> None:
        self.poller = poller
        self.before_poll = before_poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feed-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.before_poll is not None:
                    self.before_poll()
                self.poller.poll(due_only=True, stop=self._stop)
                wait = self.poller.seconds_until_next()
            except Exception:  # noqa: BLE001 - the poller thread must outlive a bad poll
                log.exception("feed poll failed; retrying in a minute")
                wait = 60.0
            self._stop.wait(max(wait, 1.0))

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the feed being polled (a claim left behind expires by itself)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
