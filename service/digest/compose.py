"""Stage 5 of the digest: each story's title and short briefing, and an optional overview.

Per story a short briefing (the cached one when the article has it, else generated through
the request path, :meth:`BriefingService.brief_stored`, else the lead sentences), a title
(the article's own when given, else a headline of a few words from the briefing's first
clause: :func:`headline`), and its sources (:func:`service.digest.stories.publishers`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from service.briefing import BriefingService
from service.config import Settings
from service.digest.stories import publishers
from service.errors import BriefingError, Overloaded, StorageError
from service.lengths import fit_length
from service.preprocess import preprocess, split_sentences
from service.storage.articles import Article, StoredArticle

log = logging.getLogger(__name__)

HEADLINE_MIN_WORDS = 4  # a clause shorter than this ("On Tuesday,") runs on to the next
HEADLINE_MAX_WORDS = 10  # a headline is a few words; a longer clause is cut, ending with "…"
HEADLINE_MAX_CHARS = 80
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[—–-]\s|\s\(")
_QUOTES = {'"': '"', "“": "”", "‘": "’", "«": "»", "'": "'"}  # opening: closing
_LINKING = frozenset("a an and as at by for from in into of on or that the to which who with"
                     .split())


class StoryBriefer:
    """Short briefings for the digest's stories: cached when possible, generated otherwise.

    ``cached(briefing_id)`` looks a stored result up; ``service()`` gives the request path,
    which is only asked for (and, from the CLI, only loaded: :meth:`Wiring.story_briefer
    <service.wiring.Wiring.story_briefer>`) when something must be generated. Generation
    goes through ``BriefingService.brief_stored`` (cache key, checks, length rules and
    admission control all apply; the article is not stored again).
    """

    def __init__(
        self,
        cached: Callable[[str], dict[str, Any] | None],
        service: Callable[[], BriefingService],
        *,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lookup = cached
        self._service = service
        self._attempts = attempts
        self._sleep = sleep

    @classmethod
    def for_service(cls, service: BriefingService) -> StoryBriefer:
        """A briefer over a running request path (the API's)."""
        return cls(service.cache.get, lambda: service)

    def _cached(self, briefing_id: str) -> dict[str, Any] | None:
        """A stored result, or None (an unreadable cache too: the briefing is generated)."""
        try:
            return self._lookup(briefing_id)
        except StorageError as exc:
            log.warning("digest: cache unreadable (%s); generating instead", exc.message)
            return None

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


def headline(text: str) -> str:
    """A title of a few words for a story whose article has none: the first clause of the
    first sentence of ``text`` (its briefing), at most ``HEADLINE_MAX_WORDS`` words and
    ``HEADLINE_MAX_CHARS`` characters, ending with "…" where it had to be cut."""
    sentences = split_sentences(text)
    first = " ".join((sentences[0] if sentences else text).split())
    end = len(first)
    for match in _CLAUSE_END.finditer(first):
        if len(first[: match.start()].split()) >= HEADLINE_MIN_WORDS:
            end = match.start()
            break
    words = first[:end].rstrip(" ,;:-–—").removesuffix(".").split()
    cut = len(words) > HEADLINE_MAX_WORDS
    words = words[:HEADLINE_MAX_WORDS]
    while len(words) > 1 and len(" ".join(words)) > HEADLINE_MAX_CHARS - 1:
        words, cut = words[:-1], True
    while cut and len(words) > HEADLINE_MIN_WORDS and words[-1].casefold() in _LINKING:
        words.pop()  # "… outside Moss that…" reads better as "… outside Moss…"
    title = " ".join(words)
    if len(title) > HEADLINE_MAX_CHARS - 1:  # one long word
        title, cut = title[: HEADLINE_MAX_CHARS - 1], True
    closing = _QUOTES.get(title[:1])
    if closing and closing not in title[1:]:
        title = title[1:]  # the quote closes in the part left out
    return title.rstrip(" ,;:-–—") + "…" if cut else title


def compose_story(
    group: list[StoredArticle], briefer: StoryBriefer, settings: Settings
) -> dict[str, Any]:
    """One ranked story as the digest shows it: title, briefing, sources (how many, and the
    names of the named ones: articles without a publisher are one unnamed source), articles."""
    titled = [a for a in group if a.article.title and a.article.title.strip()]
    lead_article = titled[0] if titled else group[0]
    briefing, how, briefing_id = briefer.short(lead_article, settings)
    title = (" ".join(lead_article.article.title.split()) if titled
             else headline(briefing) or headline(lead_article.article.text))
    sources, names = publishers(group)
    url = lead_article.article.url or next((a.article.url for a in group if a.article.url), None)
    return {
        "title": title,
        "title_from": "article" if titled else "text",
        "briefing": briefing,
        "briefing_from": how,
        "briefing_id": briefing_id,
        "sources": sources,
        "source_names": names,
        "articles": len(group),
        "article_ids": [a.id for a in group],
        "url": url,
        "first_received_at": min(a.received_at for a in group).isoformat(),
        "last_received_at": max(a.received_at for a in group).isoformat(),
    }
