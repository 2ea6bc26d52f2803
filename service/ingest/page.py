"""A page as an article: its text for the HTML path, and its own metadata.

The page's main text is taken by the HTML path's extraction
(:func:`service.preprocess.html.extract_text`, as for an HTML body sent to ``POST
/v1/briefings``) and stored as the article: the store keeps articles, not megabytes of
markup, and the digest's fingerprints compare what the articles say, not their sites'
templates (two pages of one site share most of their markup). The metadata (title,
canonical URL, site name, published date) comes from trafilatura's metadata extraction
(``<title>``, Open Graph, JSON-LD, ``rel=canonical``, htmldate for the date).

A page that arrives as its HTML rather than by URL (a ``text/html`` body, JSON or form text
that is a page, ``briefing summarize page.html``) keeps the same metadata
(:func:`article_from_html`); its markup goes to preprocessing, which extracts the main text
and reports what it kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from service.ingest.fetch import Fetched
from service.preprocess.html import as_html_document, extract_text, looks_like_html
from service.storage.articles import Article

__all__ = ["PageMeta", "article_from_html", "article_from_page", "article_text",
           "page_metadata"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageMeta:
    title: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    published_at: str | None = None  # YYYY-MM-DD (htmldate's precision)

    def as_dict(self) -> dict[str, str | None]:
        return {"title": self.title, "canonical_url": self.canonical_url,
                "site_name": self.site_name, "published_at": self.published_at}


def page_metadata(html: str, url: str | None) -> PageMeta:
    """What the page says about itself; fields it does not say are None. ``url``: where
    it was read from (None: sent as it is), against which a relative canonical resolves."""
    import trafilatura

    try:
        found = trafilatura.extract_metadata(
            html, default_url=url,
            date_config={"extensive_search": False, "original_date": True},
        )
    except Exception:  # noqa: BLE001 - hostile markup must not cost the article
        log.warning("no metadata could be read from %s", url or "a page sent as HTML",
                    exc_info=True)
        return PageMeta()
    canonical = _http_url(found.url, url) if found.url and found.url != url else None
    return PageMeta(
        title=_short(found.title), canonical_url=canonical or None,
        site_name=_short(found.sitename), published_at=found.date or None,
    )


def article_from_page(
    fetched: Fetched, *, url: str, title: str | None = None, source: str | None = None,
    published_at: str | None = None, feed_url: str | None = None,
) -> tuple[Article, PageMeta]:
    """The article a fetched page makes; what the caller knows (a feed's entry title,
    a given source) wins over what the page says, the page over nothing."""
    text = fetched.text()
    if fetched.media_type == "text/plain" and not looks_like_html(text):
        meta = PageMeta()
    else:
        meta = page_metadata(text, fetched.url)
        text = article_text(text)
    host = httpx.URL(fetched.url).host or None
    article = Article(
        text=text, title=title or meta.title, source=source or meta.site_name or host,
        url=url, published_at=published_at or meta.published_at,
        canonical_url=meta.canonical_url or (fetched.url if fetched.url != url else None),
        site_name=meta.site_name, feed_url=feed_url,
    )
    return article, meta


def article_from_html(
    html: str, *, url: str | None = None, title: str | None = None,
    source: str | None = None, published_at: str | None = None,
) -> Article:
    """The article a page sent as its HTML makes: the page itself as the text (preprocessing
    extracts its main text), with its ``<title>`` (or og:title), site name, canonical URL
    and date as :func:`article_from_page` reads them from a fetched page; what the caller
    gives wins over what the page says."""
    meta = page_metadata(html, url)
    return Article(
        text=as_html_document(html), title=title or meta.title,
        source=source or meta.site_name, url=url,
        published_at=published_at or meta.published_at,
        canonical_url=meta.canonical_url, site_name=meta.site_name,
    )


def _http_url(candidate: str, base: str | None) -> str | None:
    try:
        joined = httpx.URL(base).join(candidate.strip()) if base else httpx.URL(
            candidate.strip())
    except (httpx.InvalidURL, ValueError):
        return None
    return str(joined) if joined.scheme in ("http", "https") else None


def _short(text: str | None) -> str | None:
    return " ".join(text.split())[:1000] or None if text else None


def article_text(html: str) -> str:
    """The main text of a page or of a feed entry's HTML content, one paragraph a line."""
    return extract_text(as_html_document(html))
