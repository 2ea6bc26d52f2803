"""Reading a feed: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by its spec.

:func:`parse_feed` turns the fetched bytes into a :class:`Feed` of :class:`Entry` items with
what ingestion needs: the keys that identify an entry (guid, link), its title and date, and
its full text when the feed carries the whole article. What is not a feed (an HTML page,
malformed XML without any entry, JSON that is not a JSON Feed) is :class:`InvalidFeed`, with a
message saying what was found instead (and the feed a page links to, when it names one).
"""

from __future__ import annotations

import calendar
import html
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from service.errors import InvalidFeed

__all__ = ["Entry", "Feed", "normalize_url", "parse_feed"]

# An entry whose content (Atom content, RSS content:encoded, JSON content_*) has at least
# this much text carries the article itself: it is briefed from the feed, without fetching
# the page. Below it, it is a teaser. A description (RSS) or summary (Atom) is taken as the
# article only when it is much longer: those are usually teasers of a paragraph or two.
FULL_CONTENT_CHARS = 500
FULL_SUMMARY_CHARS = 1500

_TAG = re.compile(r"<[^<>]*>")
_ALTERNATE = re.compile(
    r"""<link\b[^>]*type=["']application/(?:rss|atom|feed)\+(?:xml|json)["'][^>]*>""", re.I
)
_HREF = re.compile(r"""href=["']([^"']+)["']""", re.I)
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$", re.I)


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as ingestion needs it."""

    guid: str | None
    link: str | None
    title: str | None
    published_at: str | None  # ISO 8601 in UTC, when the feed dates it
    content_html: str | None  # the whole article, when the feed carries it (else None)

    def keys(self, feed_url: str) -> list[str]:
        """What identifies the entry: its guid (within its feed) and its link (anywhere)."""
        keys = []
        if self.guid:
            keys.append(f"guid:{feed_url}\n{self.guid}")
        if self.link:
            keys.append(f"url:{normalize_url(self.link)}")
        return keys


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its title, site link, format, entries, and a warning when recovered."""

    title: str | None
    link: str | None
    format: str
    entries: list[Entry]
    warning: str | None = None


def normalize_url(url: str) -> str:
    """A URL as a key: lower-case scheme and host, no fragment, no tracking parameters."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = "&".join(
        p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0])
    )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def parse_feed(body: bytes, *, url: str, media_type: str = "") -> Feed:
    """The feed in ``body`` (fetched from ``url``), or :class:`InvalidFeed` saying why not."""
    head = body[:2048].lstrip()
    if media_type.endswith("json") or head.startswith((b"{", b"[")):
        return _json_feed(body, url)
    import feedparser  # imported on first use: only feed polling pays for it

    # Bytes, never a string: feedparser fetches a string that looks like a URL.
    parsed = feedparser.parse(
        body, response_headers={"content-location": url,
                                "content-type": media_type or "application/xml"},
    )
    version = parsed.get("version") or ""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not version:
        raise InvalidFeed(_not_a_feed(body, url, media_type, problem))
    entries = [_entry(e) for e in parsed.entries]
    warning = None
    if problem is not None and type(problem).__name__ == "SAXParseException":
        if not any(e.link or e.content_html for e in entries):
            raise InvalidFeed(f"{url} is not well-formed XML ({problem}) and no entry could "
                              "be read from it")
        warning = f"not well-formed XML ({problem}); {len(entries)} entries recovered"
    feed = parsed.feed
    return Feed(
        title=_clean(feed.get("title")), link=feed.get("link"), format=version,
        entries=entries, warning=warning,
    )


def _not_a_feed(body: bytes, url: str, media_type: str, problem: object) -> str:
    text = body[:65536].decode("utf-8", errors="replace")
    if "html" in media_type or re.search(r"<html\b|<!doctype html", text[:4096], re.I):
        found = _ALTERNATE.search(text)
        href = _HREF.search(found.group(0)) if found else None
        hint = (f"; the page names a feed at {httpx.URL(url).join(html.unescape(href.group(1)))}"
                if href else "")
        return f"{url} is an HTML page, not a feed{hint}"
    if not body.strip():
        return f"{url} answered an empty body, not a feed"
    detail = f" ({problem})" if problem else ""
    return f"{url} is not an RSS, Atom or JSON feed{detail}"


def _entry(item: Any) -> Entry:
    content = None
    for part in item.get("content") or []:
        value = part.get("value") or ""
        if _text_chars(value) >= FULL_CONTENT_CHARS and (
            content is None or len(value) > len(content)
        ):
            content = value
    if content is None:  # some feeds put the whole article in the description
        summary = item.get("summary") or ""
        if _text_chars(summary) >= FULL_SUMMARY_CHARS:
            content = summary
    moment = item.get("published_parsed") or item.get("updated_parsed")
    guid = item.get("id") or item.get("guid")
    return Entry(
        guid=str(guid).strip() if guid else None,
        link=(item.get("link") or "").strip() or None,
        title=_clean(item.get("title")),
        published_at=_iso(moment),
        content_html=content,
    )


def _json_feed(body: bytes, url: str) -> Feed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidFeed(f"{url} is not valid JSON: {exc}") from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise InvalidFeed(f"{url} is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidFeed(f"{url} is a JSON Feed without an `items` list")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        content = _string(item.get("content_html"))
        if content is None and _string(item.get("content_text")):
            content = "".join(f"<p>{html.escape(p)}</p>"
                              for p in str(item["content_text"]).split("\n\n"))
        if content is not None and _text_chars(content) < FULL_CONTENT_CHARS:
            content = None
        link = _string(item.get("url")) or _string(item.get("external_url"))
        entries.append(Entry(
            guid=_string(item.get("id")) if item.get("id") is not None else None,
            link=str(httpx.URL(url).join(link)) if link else None,
            title=_clean(_string(item.get("title"))),
            published_at=_iso_text(_string(item.get("date_published"))
                                   or _string(item.get("date_modified"))),
            content_html=content,
        ))
    return Feed(title=_clean(_string(data.get("title"))),
                link=_string(data.get("home_page_url")), format="json" + version[-3:],
                entries=entries)


def _string(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() or None if isinstance(value, str) else None


def _text_chars(markup: str) -> int:
    return len(" ".join(html.unescape(_TAG.sub(" ", markup)).split()))


def _clean(title: str | None) -> str | None:
    if not title:
        return None
    return " ".join(html.unescape(_TAG.sub(" ", title)).split())[:1000] or None


def _iso(moment: time.struct_time | None) -> str | None:
    if moment is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(moment), UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def _iso_text(text: str | None) -> str | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()
