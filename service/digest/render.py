"""A digest (or an alert) as text, Markdown and HTML, cut to a destination's message limit.

Pure functions: the same digest always gives the same messages, so a delivery that failed
half-way resumes with exactly the message it stopped at (:mod:`service.digest.ledger`).
Slack has its own planner (:mod:`service.digest.slack_messages`); the JSON webhook gets the
digest object itself.
"""

from __future__ import annotations

import html
from typing import Any

from service.digest.slack_messages import sources_line

ELLIPSIS = "…"


def story_lines(story: dict[str, Any], *, markdown: bool) -> str:
    """One story: its title (linked in Markdown), briefing and sources, as plain lines."""
    title = " ".join(str(story.get("title") or "Untitled").split())
    if story.get("update"):
        title = f"Update: {title}"
    url = story.get("url")
    if markdown:
        head = f"**[{title}]({url})**" if url else f"**{title}**"
    else:
        head = title
    lines = [head, " ".join(str(story.get("briefing") or "").split())]
    sources = sources_line(int(story.get("sources") or 1), story.get("source_names") or [])
    if sources:
        lines.append(f"_{sources}_" if markdown else sources)
    if url and not markdown:
        lines.append(str(url))
    return "\n".join(line for line in lines if line)


def digest_intro(digest: dict[str, Any], link: str | None) -> str:
    """The line under the title: how many stories, of how many; the page's link."""
    shown, total = len(digest.get("stories") or []), digest.get("stories_total", 0)
    parts = [f"{shown} of {total} stories" if total > shown
             else f"{shown} {'story' if shown == 1 else 'stories'}"]
    if link:
        parts.append(link)
    return " · ".join(parts)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    room = max(1, limit - len(ELLIPSIS))
    head = text[:room]
    space = head.rfind(" ")
    if space > room // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def chunk(blocks: list[str], limit: int | None, *, separator: str = "\n\n") -> list[str]:
    """Blocks joined into messages of at most ``limit`` characters (a block longer than the
    limit alone is cut, ending with "…"); one message when ``limit`` is None."""
    if limit is None:
        return [separator.join(blocks)]
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = _cut(block, limit)
        joined = f"{current}{separator}{block}" if current else block
        if len(joined) <= limit:
            current = joined
            continue
        messages.append(current)
        current = block
    if current or not messages:
        messages.append(current)
    return messages


def text_messages(digest: dict[str, Any], title: str, *, link: str | None, limit: int | None,
                  markdown: bool) -> list[dict[str, Any]]:
    """The digest as text (or Markdown) messages within ``limit`` characters each (title and
    body together); numbered "(i/n)" in the title when there are several."""
    stories = digest.get("stories") or []
    blocks = [digest_intro(digest, link)]
    if digest.get("overview"):
        blocks.append(str(digest["overview"]))
    blocks += [story_lines(s, markdown=markdown) for s in stories]
    if not stories:
        blocks.append("No stories in this period.")
    room = None if limit is None else max(200, limit - len(title) - 12)
    bodies = chunk(blocks, room)
    fmt = "markdown" if markdown else "text"
    if len(bodies) == 1:
        return [{"title": title, "body": bodies[0], "format": fmt}]
    return [{"title": f"{title} ({i}/{len(bodies)})", "body": body, "format": fmt}
            for i, body in enumerate(bodies, start=1)]


def html_message(digest: dict[str, Any], title: str, *, link: str | None) -> dict[str, Any]:
    """The digest as one HTML message (email: Apprise adds the text part)."""
    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>", f"<p>{esc(digest_intro(digest, None))}"
             + (f' · <a href="{esc(link)}">View on the web</a>' if link else "") + "</p>"]
    if digest.get("overview"):
        parts.append(f"<p>{esc(str(digest['overview']))}</p>")
    for story in digest.get("stories") or []:
        name = esc(" ".join(str(story.get("title") or "Untitled").split()))
        if story.get("update"):
            name = f"Update: {name}"
        url = story.get("url")
        head = f'<a href="{esc(url)}">{name}</a>' if url else name
        parts.append(f"<h2>{head}</h2>")
        parts.append(f"<p>{esc(' '.join(str(story.get('briefing') or '').split()))}</p>")
        sources = sources_line(int(story.get("sources") or 1), story.get("source_names") or [])
        if sources:
            parts.append(f"<p><small>{esc(sources)}</small></p>")
    if not digest.get("stories"):
        parts.append("<p>No stories in this period.</p>")
    return {"title": title, "body": "\n".join(parts), "format": "html"}


def alert_story(stored_title: str, briefing: str, url: str | None) -> dict[str, Any]:
    """An alert's one story, in the digest's story shape."""
    return {"title": stored_title, "briefing": briefing, "url": url, "sources": 1,
            "source_names": []}


__all__ = ["chunk", "html_message", "story_lines", "text_messages"]
