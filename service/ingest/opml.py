"""Reading an OPML subscription list (what feed readers export) with listparser."""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import InvalidFeed

__all__ = ["Subscription", "read_opml"]


@dataclass(frozen=True)
class Subscription:
    url: str
    title: str | None


def read_opml(data: bytes, *, name: str = "the OPML file") -> list[Subscription]:
    """The feeds an OPML document subscribes to, in order, without repeats.

    Nested outlines (folders) are flattened. A document with no feed at all is refused
    with :class:`InvalidFeed`, saying so, rather than importing nothing silently.
    """
    import listparser

    # Bytes, never a string: listparser fetches a string that looks like a URL.
    parsed = listparser.parse(bytes(data))
    seen: dict[str, Subscription] = {}
    for feed in parsed.get("feeds", []):
        url = (feed.get("url") or "").strip()
        if url and url not in seen:
            seen[url] = Subscription(url=url, title=(feed.get("title") or "").strip() or None)
    if not seen:
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        detail = f" ({problem})" if problem else ""
        raise InvalidFeed(f"{name} lists no feeds: expected OPML with "
                          f"<outline type=\"rss\" xmlUrl=\"…\"/> entries{detail}")
    return list(seen.values())
