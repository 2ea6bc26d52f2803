"""The daily digest: one local day's articles, grouped by story, briefed, ranked, delivered.

``build_digest`` runs the stages in order:
  1. window — the calendar day in the configured IANA time zone, as a UTC interval; DST days
     are 23 or 25 hours long, and the interval says so
  2. articles — every article *received* in the window (the store keeps them all)
  3. cluster — identical texts, and texts whose MinHash similarity reaches the threshold
     (single linkage), are one story; the threshold was measured with
     ``bench/digest_clustering.py``
  4. rank and cap — more sources first, then more articles, then the most recent; at most
     ``digest_max_stories``
  5. compose — per story a title (the article's own when given), a short briefing (the
     cached one when the article has it, else generated, else the lead sentences) and the
     source count; optionally one long overview of all stories
The result is a JSON-ready dict, stored by (day, time zone).

:class:`DailyJob` is what the scheduler, ``briefing daily`` and ``POST /v1/digests/{date}``
run: build the digest, then deliver it through :mod:`service.delivery` exactly once.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import numpy as np

from service.config import Settings
from service.delivery import DeliveryKey, DeliveryLedger, deliver
from service.errors import (
    BriefingError,
    DeliveryBusy,
    DeliveryFailed,
    InvalidDate,
    NotFound,
    Overloaded,
    StorageError,
    WebhookNotAllowed,
)
from service.fingerprint import FINGERPRINT_VERSION, NUM_PERM, Fingerprint, similarity_matrix
from service.lengths import fit_length
from service.preprocess import preprocess, split_sentences
from service.slack import (
    DigestMessageInput,
    DigestStory,
    SlackWebhook,
    WebhookURLNotAllowed,
    plan_messages,
    redact_url,
    webhook_id,
)
from service.store import Article, ArticleStore, StoredArticle

log = logging.getLogger(__name__)

# Measured with bench/digest_clustering.py (2-word shingles, 256 permutations, all 510 eval
# articles): at 0.20 recall 0.969 and no different-story pair merged; the closest
# different-story pair scores 0.176. Settings.digest_similarity defaults to this.
SIMILARITY_THRESHOLD = 0.20
TITLE_FALLBACK_CHARS = 90
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMPTY = Fingerprint(np.zeros(NUM_PERM, dtype=np.uint32), 0)


# --- 1. window --------------------------------------------------------------------------------


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date, or :class:`InvalidDate` saying what is expected."""
    try:
        if _DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidDate(f"{text[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-29")


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of ``day`` in ``zone``, in UTC: local midnight to the next one.

    zoneinfo resolves a local midnight that does not exist (a gap at 00:00) to the first
    instant after the gap, so the window is always the instants whose local date is ``day``.
    """
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end.astimezone(UTC)


def yesterday(zone: ZoneInfo, now: datetime | None = None) -> date:
    """The local date before today in ``zone``."""
    return (now or datetime.now(UTC)).astimezone(zone).date() - timedelta(days=1)


# --- 3. cluster -------------------------------------------------------------------------------


def cluster(articles: Sequence[StoredArticle], threshold: float) -> list[list[StoredArticle]]:
    """Group articles by story: same text, or fingerprint similarity >= ``threshold``.

    Single linkage (a union-find over the qualifying pairs): an article joins a story when it
    is close to any of its articles. Groups keep the input order, and so do their members.
    """
    n = len(articles)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_with_text: dict[str, int] = {}
    for i, stored in enumerate(articles):
        union(i, first_with_text.setdefault(stored.content_hash, i))
    sims = similarity_matrix([a.fingerprint or _EMPTY for a in articles])
    for i, j in zip(*np.nonzero(np.triu(sims >= threshold, k=1)), strict=True):
        union(int(i), int(j))
    groups: dict[int, list[StoredArticle]] = {}
    for i, stored in enumerate(articles):
        groups.setdefault(root(i), []).append(stored)
    return list(groups.values())


def source_key(stored: StoredArticle) -> str:
    """Who published it: the given source, else the URL's host, else the text itself."""
    article = stored.article
    if article.source and article.source.strip():
        return "source:" + " ".join(article.source.split()).casefold()
    if article.url:
        try:
            host = (urlsplit(article.url.strip()).hostname or "").removeprefix("www.")
        except ValueError:
            host = ""
        if host:
            return "host:" + host
    return "text:" + stored.content_hash


# --- 4. rank ----------------------------------------------------------------------------------


def rank(groups: list[list[StoredArticle]]) -> list[list[StoredArticle]]:
    """More sources first, then more articles, then the latest arrival, then the oldest id."""

    def order(group: list[StoredArticle]) -> tuple[int, int, float, int]:
        sources = len({source_key(a) for a in group})
        latest = max(a.received_at for a in group).timestamp()
        return (-sources, -len(group), -latest, min(a.id for a in group))

    return sorted(groups, key=order)


# --- 5. compose -------------------------------------------------------------------------------


class _LinkOnlyStore:
    """Stands in for the article store when the digest generates a missing briefing.

    ``BriefingService.brief`` stores every article it is given (that is its contract for
    POSTs); here the article is already stored, so ``add`` answers its existing id and
    ``link_briefing`` links the new briefing to it, so tomorrow's run finds it cached.
    """

    def __init__(self, store: ArticleStore, article_id: int | None) -> None:
        self._store = store
        self._article_id = article_id

    def add(self, article: Article, **_: Any) -> int:
        return self._article_id or 0

    def link_briefing(self, _article_id: int, briefing_id: str) -> None:
        if self._article_id is not None:
            self._store.link_briefing(self._article_id, briefing_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class Briefer:
    """Short briefings for the digest's stories: cached when possible, generated otherwise.

    ``cached(briefing_id)`` looks a stored result up; ``service()`` gives the briefing
    service, which is only asked for (and, from the CLI, only loaded) when something must be
    generated. Generation goes through ``BriefingService.brief`` (cache key, checks, length
    rules and admission control all apply) on a shallow copy whose store only links.
    """

    def __init__(
        self,
        cached: Callable[[str], dict[str, Any] | None],
        service: Callable[[], Any],
        *,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._cached = cached
        self._service = service
        self._attempts = attempts
        self._sleep = sleep
        self._close: Callable[[], None] = lambda: None

    @classmethod
    def for_service(cls, service: Any) -> Briefer:
        """A briefer over a running ``BriefingService`` (the API's)."""

        def cached(briefing_id: str) -> dict[str, Any] | None:
            try:
                result: dict[str, Any] = service.get(briefing_id)
                return result
            except (NotFound, StorageError):
                return None

        return cls(cached, lambda: service)

    @classmethod
    def standalone(cls, settings: Settings) -> Briefer:
        """A briefer for the CLI: reads the cache file, loads the engine only if needed."""
        from service.briefing import BriefingService
        from service.cache import SQLiteCache

        cache = SQLiteCache(settings.cache_path, timeout_s=settings.sqlite_timeout_s)
        opened: list[Any] = []

        def cached(briefing_id: str) -> dict[str, Any] | None:
            try:
                return cache.get(briefing_id)
            except StorageError:
                return None

        def service() -> Any:
            if not opened:
                opened.append(BriefingService.open(settings))
            return opened[0]

        def close() -> None:
            for opened_service in opened:
                opened_service.close()
            cache.close()

        briefer = cls(cached, service)
        briefer._close = close
        return briefer

    def close(self) -> None:
        """Close what this briefer opened itself (nothing for ``for_service``)."""
        self._close()

    def short(self, stored: StoredArticle, settings: Settings) -> tuple[str, str, str | None]:
        """(briefing, where it came from: cache | generated | lead, briefing id or None)."""
        if stored.briefing_id:
            hit = self._cached(stored.briefing_id)
            if hit and hit.get("short"):
                return hit["short"], "cache", stored.briefing_id
        try:
            result = self._generate(stored.article, ("short",), stored.id)
            if result.get("short"):
                return result["short"], "generated", result.get("id")
        except BriefingError as exc:
            log.warning("digest: no briefing for article %d (%s); using its lead sentences",
                        stored.id, exc.message)
        return lead(stored.article.text, settings), "lead", None

    def overview(self, text: str) -> str | None:
        """One long briefing of the stories' briefings together; None when it fails."""
        try:
            long: str | None = self._generate(Article(text=text), ("long",), None).get("long")
            return long
        except BriefingError as exc:
            log.warning("digest: no overview (%s)", exc.message)
            return None

    def _generate(
        self, article: Article, lengths: tuple[str, ...], article_id: int | None
    ) -> dict[str, Any]:
        service = self._service()
        worker = copy.copy(service)  # shares engine, cache, admission; only the store differs
        worker.store = _LinkOnlyStore(service.store, article_id)
        for attempt in range(1, self._attempts + 1):
            try:
                deadline = time.monotonic() + service.settings.request_timeout_s
                result: dict[str, Any] = worker.brief(article, lengths, deadline=deadline)
                return result
            except Overloaded:  # the API is busy with requests: wait our turn, briefly
                if attempt == self._attempts:
                    raise
                self._sleep(2.0 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover


def lead(text: str, settings: Settings) -> str:
    """The first sentences of the article within the short briefing's limits."""
    doc = preprocess(text)
    return fit_length(" ".join(doc.sentences[: settings.short_max_sentences]),
                      max_words=settings.short_max_words,
                      max_sentences=settings.short_max_sentences)


def fallback_title(text: str) -> str:
    """The first sentence, cut at a word boundary: a title for an article sent without one."""
    sentences = preprocess(text).sentences
    first = " ".join((sentences[0] if sentences else text).split())
    if len(first) <= TITLE_FALLBACK_CHARS:
        return first.removesuffix(".")
    cut = first[:TITLE_FALLBACK_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


def _story(group: list[StoredArticle], briefer: Briefer, settings: Settings) -> dict[str, Any]:
    titled = [a for a in group if a.article.title and a.article.title.strip()]
    lead_article = titled[0] if titled else group[0]
    title = (" ".join(lead_article.article.title.split()) if lead_article.article.title
             else fallback_title(lead_article.article.text))
    briefing, how, briefing_id = briefer.short(lead_article, settings)
    sources = sorted({source_key(a) for a in group})
    names = sorted({a.article.source.strip() for a in group
                    if a.article.source and a.article.source.strip()})
    url = lead_article.article.url or next((a.article.url for a in group if a.article.url), None)
    return {
        "title": title,
        "title_from": "article" if lead_article.article.title else "text",
        "briefing": briefing,
        "briefing_from": how,
        "briefing_id": briefing_id,
        "sources": len(sources),
        "source_names": names,
        "articles": len(group),
        "article_ids": [a.id for a in group],
        "url": url,
        "first_received_at": min(a.received_at for a in group).isoformat(),
        "last_received_at": max(a.received_at for a in group).isoformat(),
    }


def build_digest(
    settings: Settings,
    store: ArticleStore,
    briefer: Briefer,
    day: date,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The digest of ``day`` (see the module docstring for the stages); stored, and returned."""
    zone = settings.zone
    now = now or datetime.now(UTC)
    # 1. window
    start, end = day_window(day, zone)
    # 2. articles
    articles = store.received_between(start, end)
    # 3. cluster
    groups = cluster(articles, settings.digest_similarity)
    # 4. rank and cap
    ranked = rank(groups)
    chosen = ranked[: settings.digest_max_stories]
    # 5. compose
    stories = [_story(group, briefer, settings) for group in chosen]
    overview = None
    if settings.digest_overview and len(stories) > 1:
        overview = briefer.overview("\n\n".join(f"{s['title']}. {s['briefing']}"
                                                for s in stories))
    digest = {
        "date": day.isoformat(),
        "timezone": settings.timezone,
        "window": {"start": start.isoformat(), "end": end.isoformat(),
                   "hours": round((end - start).total_seconds() / 3600, 2)},
        "complete": now >= end,
        "built_at": now.isoformat(),
        "articles": len(articles),
        "stories_total": len(groups),
        "stories": stories,
        "overview": overview,
        "clustering": {"fingerprint": FINGERPRINT_VERSION,
                       "threshold": settings.digest_similarity},
    }
    store.save_digest(day.isoformat(), settings.timezone, digest)
    log.info("digest %s (%s): %d article(s), %d story(ies), %d shown", day, settings.timezone,
             len(articles), len(groups), len(stories))
    return digest


def heading(digest: dict[str, Any]) -> str:
    day = date.fromisoformat(digest["date"])
    return f"Daily briefing — {day:%a} {day.isoformat()}"


def _presented(story: dict[str, Any]) -> DigestStory:
    """A story as Slack shows it. Without a title of its own, the briefing's first sentence
    is the (bold) title and the rest the text: the stand-in title is usually that sentence
    cut short, and it would otherwise be read twice."""
    title, briefing = story["title"], story["briefing"]
    if story.get("title_from") == "text":
        sentences = split_sentences(briefing)
        if sentences:
            # a headline has no full stop (the notification text joins titles with "; ")
            title, briefing = sentences[0].removesuffix("."), " ".join(sentences[1:])
    return DigestStory(title, briefing, story["sources"], story["url"])


def message_input(digest: dict[str, Any]) -> DigestMessageInput:
    """The digest as the Slack planner's input."""
    return DigestMessageInput(
        heading=heading(digest),
        stories=[_presented(s) for s in digest["stories"]],
        overview=digest.get("overview"),
    )


# --- the daily job ----------------------------------------------------------------------------


def make_webhook(settings: Settings) -> SlackWebhook | None:
    """The configured webhook (validated against the allowed hosts), or None when unset."""
    if settings.slack_webhook_url is None:
        return None
    url = settings.slack_webhook_url.get_secret_value().strip()
    if not url:
        return None
    try:
        return SlackWebhook(url, allowed_hosts=settings.slack_allowed_host_list,
                            backoff_base=settings.slack_backoff_s)
    except WebhookURLNotAllowed as exc:  # its message shows the redacted URL only
        raise WebhookNotAllowed(
            f"BRIEFING_SLACK_WEBHOOK_URL: {exc} (BRIEFING_SLACK_ALLOWED_HOSTS="
            f"{settings.slack_allowed_hosts})"
        ) from None


class DailyJob:
    """Build a day's digest and deliver it to Slack exactly once.

    ``on_delivery`` is told how each run ended (the delivery status, or ``busy``, ``failed``
    or ``error`` when it raised); ``on_message`` is called for each message Slack accepted.
    The server counts both in its metrics; the CLI passes neither.
    """

    def __init__(
        self,
        settings: Settings,
        store: ArticleStore,
        briefer: Briefer,
        ledger: DeliveryLedger,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        on_delivery: Callable[[str], None] | None = None,
        on_message: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.briefer = briefer
        self.ledger = ledger
        self.clock = clock
        self._sleep = sleep
        self._on_delivery = on_delivery
        self._on_message = on_message

    def _key(self, day: date) -> DeliveryKey | None:
        url = self.settings.slack_webhook_url
        if url is None or not url.get_secret_value().strip():
            return None
        return DeliveryKey(day.isoformat(), self.settings.timezone,
                           webhook_id(url.get_secret_value().strip()))

    def build(self, day: date) -> dict[str, Any]:
        return build_digest(self.settings, self.store, self.briefer, day, now=self.clock())

    def messages(self, digest: dict[str, Any]) -> list[dict[str, Any]]:
        """The Slack messages (webhook payloads) that deliver ``digest``; none for an empty
        day when ``BRIEFING_DIGEST_POST_EMPTY`` is off."""
        if not digest["stories"] and not self.settings.digest_post_empty:
            return []
        return plan_messages(message_input(digest))

    def is_done(self, day: date) -> bool:
        """Delivered (with a webhook), or built after the day ended (without one)."""
        key = self._key(day)
        if key is not None:
            row = self.ledger.get(key)
            return row is not None and row.status == "delivered"
        stored = self.store.load_digest(day.isoformat(), self.settings.timezone)
        return bool(stored and stored.get("complete"))

    def status(self, day: date) -> dict[str, Any]:
        """The delivery state of ``day`` as the API shows it (never the URL)."""
        key = self._key(day)
        if key is None:
            return {"status": "not_configured"}
        row = self.ledger.get(key)
        url = self.settings.slack_webhook_url
        shown = redact_url(url.get_secret_value()) if url else None
        if row is None:
            return {"status": "not_delivered", "webhook": shown, "webhook_id": key.webhook_id}
        return {"status": row.status, "messages": len(row.payloads or []), "sent": row.sent,
                "delivered_at": row.delivered_at, "last_error": row.last_error,
                "webhook": shown, "webhook_id": key.webhook_id}

    def run(self, day: date, *, send: bool = True, force: bool = False) -> dict[str, Any]:
        """Build ``day``'s digest and deliver it; returns {"digest": …, "delivery": …}.

        Without a webhook (or with ``send=False``) the digest is built and stored only.
        A day that has not ended yet is built but not delivered unless ``force``. A delivered
        day is not rebuilt: the stored digest is returned and nothing is posted.
        """
        try:
            result = self._run(day, send=send, force=force)
        except InvalidDate:  # a day that has not begun: a wrong request, not a run
            raise
        except DeliveryBusy:
            self._report("busy")
            raise
        except DeliveryFailed:
            self._report("failed")
            raise
        except Exception:
            self._report("error")
            raise
        self._report(result["delivery"]["status"])
        return result

    def _report(self, status: str) -> None:
        if self._on_delivery is not None:
            self._on_delivery(status)

    def _run(self, day: date, *, send: bool, force: bool) -> dict[str, Any]:
        now = self.clock()
        start, end = day_window(day, self.settings.zone)
        if start > now:
            raise InvalidDate(f"{day} has not begun in {self.settings.timezone}")
        webhook = make_webhook(self.settings) if send else None
        if webhook is None:
            why = "not_configured" if self._key(day) is None else "not_requested"
            return {"digest": self.build(day), "delivery": {"status": why}}
        key = self._key(day)
        assert key is not None
        with webhook:
            if now < end and not force:
                return {"digest": self.build(day), "delivery": {
                    "status": "day_not_over",
                    "detail": f"{day} ends at {end.astimezone(self.settings.zone).isoformat()}"
                              "; the digest is delivered "
                              "after that (force delivers now)",
                }}
            built: dict[str, dict[str, Any]] = {}

            def plan() -> list[dict[str, Any]]:
                built["digest"] = digest = self.build(day)
                return self.messages(digest)

            outcome = deliver(
                self.ledger, key, plan, webhook, force=force,
                lease_s=self.settings.delivery_lease_s,
                interval_s=self.settings.slack_message_interval_s, sleep=self._sleep,
                on_sent=self._on_message,
            )
        digest = (built.get("digest")
                  or self.store.load_digest(day.isoformat(), self.settings.timezone)
                  or self.build(day))
        return {"digest": digest, "delivery": outcome.as_dict()}


__all__ = [
    "SIMILARITY_THRESHOLD",
    "Briefer",
    "DailyJob",
    "build_digest",
    "cluster",
    "day_window",
    "make_webhook",
    "message_input",
    "parse_day",
    "rank",
    "yesterday",
]
