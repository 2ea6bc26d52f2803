"""Stage 5 of the digest: each story's title and short briefing, and an optional overview.

Per story a title (the article's own when given, else its first sentence) and a short
briefing: the cached one when the article has it, else generated through the request path
(:meth:`BriefingService.brief_stored`), else the lead sentences.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from service.config import Settings
from service.digest.stories import source_key
from service.errors import BriefingError, NotFound, Overloaded, StorageError
from service.lengths import fit_length
from service.preprocess import preprocess
from service.storage import Database
from service.store import Article, StoredArticle

log = logging.getLogger(__name__)

TITLE_FALLBACK_CHARS = 90


class Briefer:
    """Short briefings for the digest's stories: cached when possible, generated otherwise.

    ``cached(briefing_id)`` looks a stored result up; ``service()`` gives the briefing
    service, which is only asked for (and, from the CLI, only loaded) when something must be
    generated. Generation goes through ``BriefingService.brief_stored`` (cache key, checks,
    length rules and admission control all apply; the article is not stored again).
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
    def standalone(cls, settings: Settings, database: Database) -> Briefer:
        """A briefer for the CLI: reads the cache in ``database``, loads the engine only if
        needed."""
        from service.briefing import BriefingService
        from service.cache import DatabaseCache

        cache = DatabaseCache(database)
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
        for attempt in range(1, self._attempts + 1):
            try:
                deadline = time.monotonic() + service.settings.request_timeout_s
                result: dict[str, Any] = service.brief_stored(
                    article, article_id, lengths, deadline=deadline
                )
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


def compose_story(
    group: list[StoredArticle], briefer: Briefer, settings: Settings
) -> dict[str, Any]:
    """One ranked story as the digest shows it: title, briefing, sources, articles."""
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
