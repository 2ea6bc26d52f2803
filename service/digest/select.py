"""Which articles a digest takes: its words (include, exclude), feeds and languages.

A word or phrase matches case-insensitively on whole words of the article's title and text
("ev" matches "EV sales", not "every"; "electric car" matches "Electric  car," but not
"electric cars"). A term that starts
with ``re:`` is a regular expression (Python syntax, case-insensitive), searched as written.

- ``include``: when given, an article must match at least one term;
- ``exclude``: an article matching any term is left out;
- ``feeds``: only articles from these feeds (the feed URL the article came from);
- ``languages``: only articles in these languages (ISO 639-1, detected from the text).

:meth:`Selection.strength` is how many distinct include terms an article matches: the
digest's ranking counts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from service.storage.articles import StoredArticle

REGEX_PREFIX = "re:"


class TermError(ValueError):
    """A term that cannot be used; ``key`` is the list it is in."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def compile_term(term: str, key: str = "include") -> re.Pattern[str]:
    """The pattern of one term: ``re:`` a regular expression, else whole words."""
    if term.startswith(REGEX_PREFIX):
        try:
            return re.compile(term[len(REGEX_PREFIX):], re.IGNORECASE)
        except re.error as exc:
            raise TermError(key, f"{term!r} is not a regular expression: {exc}") from None
    words = term.split()
    if not words:
        raise TermError(key, "an empty term")
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _language(text: str) -> str:
    from service.preprocess.language import detect_language

    return detect_language(text).code


def article_text(stored: StoredArticle) -> str:
    """What the terms are matched against: the title, then the text (a page's main text)."""
    from service.preprocess.html import extract_text, looks_like_html

    body = stored.article.text
    if looks_like_html(body):
        body = extract_text(body)
    return f"{stored.article.title or ''}\n{body}"


@dataclass(frozen=True)
class Selection:
    """A digest's rules; the empty selection takes every article."""

    include_text: tuple[str, ...] = ()
    exclude_text: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    include: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    exclude: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, *, include: Iterable[str] = (), exclude: Iterable[str] = (),
           feeds: Iterable[str] = (), languages: Iterable[str] = ()) -> Selection:
        inc, exc = tuple(include), tuple(exclude)
        return cls(inc, exc, tuple(f.strip() for f in feeds), tuple(languages),
                   tuple(compile_term(t, "include") for t in inc),
                   tuple(compile_term(t, "exclude") for t in exc))

    @property
    def everything(self) -> bool:
        return not (self.include or self.exclude or self.feeds or self.languages)

    def matches(self, stored: StoredArticle, text: str | None = None) -> bool:
        """Whether the digest takes the article."""
        if self.everything:
            return True
        if self.feeds and (stored.article.feed_url or "").strip() not in self.feeds:
            return False
        text = article_text(stored) if text is None else text
        if self.include and not any(p.search(text) for p in self.include):
            return False
        if any(p.search(text) for p in self.exclude):
            return False
        return not (self.languages and _language(text[:5000]) not in self.languages)

    def strength(self, stored: StoredArticle, text: str | None = None) -> int:
        """How many distinct include terms the article matches (0 without include terms)."""
        if not self.include:
            return 0
        text = article_text(stored) if text is None else text
        return sum(1 for p in self.include if p.search(text))

    def select(self, articles: Iterable[StoredArticle]) -> tuple[list[StoredArticle],
                                                                  dict[int, int]]:
        """The articles taken, and each one's strength by id."""
        taken: list[StoredArticle] = []
        strength: dict[int, int] = {}
        for stored in articles:
            text = None if self.everything else article_text(stored)
            if self.matches(stored, text):
                taken.append(stored)
                strength[stored.id] = self.strength(stored, text) if text else 0
        return taken, strength


__all__ = ["REGEX_PREFIX", "Selection", "TermError", "article_text", "compile_term"]
