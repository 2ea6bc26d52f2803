"""The digest as Slack messages: Block Kit payloads that always fit Slack's limits.

Slack rejects a whole message for one oversized field (``invalid_blocks``), silently mangles
unescaped ``&``/``<``/``>``, and rate-limits bursts. So the planner (:func:`plan_messages`) is
pure: it turns a digest into payloads within every limit, deterministically, so a delivery
that failed half-way can resume at a message index and send exactly the same messages.
:func:`message_input` is the digest (as built by :mod:`service.digest.build`) as the
planner's input: the stories with their sources named, and a line under the header that says
what the message covers (the day so far, "N of M stories shown") and links to the digest's
page on the web. Posting them is :mod:`service.digest.slack_webhook`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

# --- Slack limits (Block Kit reference) -----------------------------------------------------
MAX_BLOCKS = 50  # blocks per message
SECTION_TEXT_MAX = 3000  # section block text
HEADER_TEXT_MAX = 150  # header block plain_text
# Slack also rejects messages whose blocks are long in aggregate ("msg_blocks_too_long",
# observed near 13,000 characters and undocumented), so we stay well below that.
MAX_MESSAGE_CHARS = 12_000
FALLBACK_TEXT_MAX = 300  # top-level `text`: what notifications show; keep it short
TITLE_MAX = 250  # a story title inside its section
LINK_URL_MAX = 1000  # longer story URLs are not linked rather than eating the section budget
SOURCES_MAX = 300  # the sources line under a story
NOTE_MAX = 300  # each part of the line under the header
WEB_LINK_LABEL = "View on the web"
NO_STORIES = "No stories today."

ELLIPSIS = "…"
DEFAULT_HEADING = "Briefing"

_MRKDWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_TRAILING_JUNK = " \t\n,;:-–—"



@dataclass(frozen=True)
class DigestStory:
    """One story of the digest: a title, its short briefing, how many sources it merges and
    the names of the named ones (the rest, at most one in a digest built now, has no name)."""

    title: str
    briefing: str
    sources: int = 1
    url: str | None = None
    source_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.sources < 1:
            raise ValueError(f"sources must be >= 1, got {self.sources}")


@dataclass(frozen=True)
class DigestMessageInput:
    """The whole digest: a heading such as "Daily briefing — 2026-11-27" and its stories.

    ``notes`` (plain text, such as "10 of 17 stories shown") and ``link`` (the digest's page,
    http(s) only) make one line under the first message's header; ``empty_text`` is what a
    digest without stories says.
    """

    heading: str
    stories: list[DigestStory] = field(default_factory=list)
    overview: str | None = None
    notes: tuple[str, ...] = ()
    link: str | None = None
    empty_text: str = NO_STORIES


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's three mrkdwn control characters (``&``, ``<``, ``>``) and nothing else."""
    return "".join(_MRKDWN_ESCAPES.get(ch, ch) for ch in text)


def _units(text: str) -> int:
    """Length in UTF-16 code units: never less than code points, so safe whichever Slack counts."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _identity(text: str) -> str:
    return text


def truncate(text: str, limit: int, *, escape: bool = True) -> str:
    """Return ``text`` (escaped for mrkdwn when ``escape``) in at most ``limit`` units.

    Over-long text is cut at a word boundary and ends with "…". The cut is made on the raw
    text before escaping, so an entity such as ``&amp;`` is never split. A single word longer
    than half the room is cut mid-word rather than dropping most of the text.
    """
    encode = escape_mrkdwn if escape else _identity
    whole = encode(text)
    if _units(whole) <= limit:
        return whole
    if limit < 1:
        return ""
    budget = limit - _units(ELLIPSIS)
    used = fit = 0
    for ch in text:
        width = _units(encode(ch))
        if used + width > budget:
            break
        used += width
        fit += 1
    cut = fit
    if not text[fit].isspace():  # fit < len(text): the whole text did not fit
        boundary = max(text.rfind(" ", 0, fit), text.rfind("\n", 0, fit), text.rfind("\t", 0, fit))
        if boundary > 0 and boundary * 2 >= fit:
            cut = boundary
    head = text[:cut].rstrip(_TRAILING_JUNK) or text[:cut]
    return encode(head) + ELLIPSIS


def _clean(text: str) -> str:
    """Normalise model output: Unix newlines, no control characters, no runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def _one_line(text: str) -> str:
    """Collapse all whitespace (a newline inside ``*bold*`` breaks the formatting)."""
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


def _link_target(url: str | None) -> str | None:
    """The URL as it may appear inside ``<url|label>``, or None when it should not be linked.

    Only http(s) is linked. ``|``, ``<``, ``>``, quotes and whitespace are percent-encoded so
    the URL cannot end the link early or smuggle in a different label. ``&`` is escaped as
    ``&amp;`` like everywhere in mrkdwn (percent-encoding it would change the query string);
    Slack stores link URLs in that form and decodes it when the link is opened.
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    safe = quote(url, safe="!#$%&'()*+,-./:;=?@[]^_`{}~").replace("&", "&amp;")
    if len(safe) > LINK_URL_MAX:
        return None
    return safe


def sources_line(sources: int, names: tuple[str, ...] | list[str]) -> str:
    """Who reported a story, as plain text: "Fjord Times", "2 sources: Coastal Post, Fjord
    Times", "2 sources: Fjord Times and one unnamed"; "" for one source without a name."""
    named = [n for n in (_one_line(n) for n in names) if n]
    unnamed = max(0, sources - len(named))
    if not named:
        return f"{sources} sources" if sources > 1 else ""
    listed = ", ".join(named)
    if unnamed:
        listed += " and one unnamed" if unnamed == 1 else f" and {unnamed} unnamed"
    return listed if sources == 1 else f"{sources} sources: {listed}"


def _story_text(story: DigestStory) -> str:
    """Render one story as section mrkdwn: bold (linked) title, briefing, its sources."""
    title = truncate(_one_line(story.title) or "Untitled", TITLE_MAX)
    target = _link_target(story.url)
    head = f"*<{target}|{title}>*" if target else f"*{title}*"
    sources = sources_line(story.sources, story.source_names)
    tail = f"\n_{truncate(sources, SOURCES_MAX)}_" if sources else ""
    room = SECTION_TEXT_MAX - _units(head) - _units(tail) - 1  # 1 for the newline
    body = truncate(_clean(story.briefing), room)
    return head + (f"\n{body}" if body else "") + tail


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _note_text(digest: DigestMessageInput) -> str:
    """The line under the first header (mrkdwn): the notes, then the link to the web page."""
    parts = [truncate(_one_line(note), NOTE_MAX) for note in digest.notes if _one_line(note)]
    target = _link_target(digest.link)
    if target:
        parts.append(f"<{target}|{WEB_LINK_LABEL}>")
    return " · ".join(parts)


_DIVIDER: dict[str, Any] = {"type": "divider"}


def _pack(
    texts: list[str], *, first_overhead: tuple[int, int], max_blocks: int, max_chars: int
) -> list[list[str]]:
    """Greedily group story texts into messages within the block and character budgets.

    Every message starts with a header (counted at its maximum length, so packing does not
    depend on the "(i/n)" suffix); the first message may also carry the note line (a context
    block) and the overview (section + divider). Stories are separated by dividers. A message
    always takes at least one story.
    """
    groups: list[list[str]] = [[]]
    blocks, chars = 1 + first_overhead[0], HEADER_TEXT_MAX + first_overhead[1]
    for text in texts:
        current = groups[-1]
        cost = 2 if current else 1  # divider + section, or just the section
        if current and (blocks + cost > max_blocks or chars + _units(text) > max_chars):
            groups.append([])
            blocks, chars, cost = 1, HEADER_TEXT_MAX, 1
        groups[-1].append(text)
        blocks += cost
        chars += _units(text)
    return groups


def plan_messages(
    digest: DigestMessageInput,
    *,
    max_blocks: int = MAX_BLOCKS,
    max_chars: int = MAX_MESSAGE_CHARS,
) -> list[dict[str, Any]]:
    """Turn a digest into the webhook payloads to post, in order.

    Each payload has a header block, the stories as sections separated by dividers, and a
    short top-level ``text`` fallback for notifications; the first one has the note line
    under its header when there is one. When the digest needs several messages, each header
    and fallback is numbered "(i/n)". The same digest always gives the same payloads. A
    digest without stories gives one message that says so (``empty_text``).
    """
    if not 4 <= max_blocks <= MAX_BLOCKS:
        raise ValueError(f"max_blocks must be between 4 and {MAX_BLOCKS}")
    if max_chars < 1:
        raise ValueError("max_chars must be positive")

    heading = _one_line(digest.heading) or DEFAULT_HEADING
    overview = truncate(_clean(digest.overview), SECTION_TEXT_MAX) if digest.overview else ""
    note = _note_text(digest)
    stories = list(digest.stories)
    texts = [_story_text(story) for story in stories]
    overhead = ((2 if overview else 0) + (1 if note else 0), _units(overview) + _units(note))
    groups = _pack(texts, first_overhead=overhead, max_blocks=max_blocks, max_chars=max_chars)

    total = len(groups)
    payloads: list[dict[str, Any]] = []
    story_index = 0
    for number, group in enumerate(groups, start=1):
        suffix = f" ({number}/{total})" if total > 1 else ""
        header = truncate(heading, HEADER_TEXT_MAX - len(suffix), escape=False) + suffix
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}
        ]
        if number == 1 and note:
            blocks.append(_context(note))
        if number == 1 and overview:
            blocks += [_section(overview), _DIVIDER]
        for i, text in enumerate(group):
            if i:
                blocks.append(_DIVIDER)
            blocks.append(_section(text))
        empty = _one_line(digest.empty_text) or NO_STORIES
        if not stories:
            blocks.append(_section(f"_{truncate(empty, NOTE_MAX)}_"))
        elif blocks[-1] is _DIVIDER:
            blocks.pop()

        titles = [
            _one_line(s.title) or "Untitled"
            for s in stories[story_index : story_index + len(group)]
        ]
        story_index += len(group)
        prefix = escape_mrkdwn(header)
        detail = "; ".join(titles) if titles else empty[:1].lower() + empty[1:].rstrip(".")
        fallback = prefix + ": " + truncate(detail, FALLBACK_TEXT_MAX - _units(prefix) - 2)
        payloads.append(
            {
                "text": fallback,
                "blocks": [dict(block) for block in blocks],
                "unfurl_links": False,
                "unfurl_media": False,
            }
        )
    return payloads


# --- the digest as the planner's input ---------------------------------------------------------


def heading(digest: dict[str, Any]) -> str:
    day = date.fromisoformat(digest["date"])
    return f"Daily briefing — {day:%a} {day.isoformat()}"


def day_words(day: date) -> str:
    """A day as a message names it: "Sun 6 Dec"."""
    return f"{day:%a} {day.day} {day:%b}"


def _until(digest: dict[str, Any]) -> str:
    """When a digest built before its day ended was built, local: "14:32 CET"."""
    built = datetime.fromisoformat(digest["built_at"]).astimezone(ZoneInfo(digest["timezone"]))
    return f"{built:%H:%M %Z}".strip()


def _presented(story: dict[str, Any]) -> DigestStory:
    """A story as Slack shows it: its title (for an article without one, a few words from
    the briefing: :func:`service.digest.compose.headline`), the whole briefing under it, and
    its sources by name."""
    return DigestStory(story["title"], story["briefing"], story["sources"], story["url"],
                       tuple(story.get("source_names") or ()))


def message_input(digest: dict[str, Any], *, public_url: str | None = None) -> DigestMessageInput:
    """The digest as the Slack planner's input. A digest built before its day ended says it
    covers the day so far; a capped one, how many of its stories it shows; with
    ``public_url`` (``BRIEFING_PUBLIC_URL``) it links to its page, ``/digests/YYYY-MM-DD``.
    A digest without stories names its day ("No stories on Sun 6 Dec."), or says "so far
    today" while the day is not over."""
    day = date.fromisoformat(digest["date"])
    complete = digest.get("complete", True)
    notes: list[str] = []
    if not complete:
        notes.append(f"The day so far, until {_until(digest)}")
    shown, total = len(digest["stories"]), digest.get("stories_total", 0)
    if total > shown:
        notes.append(f"{shown} of {total} stories shown")
    link = f"{public_url.rstrip('/')}/digests/{day.isoformat()}" if public_url else None
    return DigestMessageInput(
        heading=heading(digest),
        stories=[_presented(s) for s in digest["stories"]],
        overview=digest.get("overview"),
        notes=tuple(notes),
        link=link,
        empty_text=(f"No stories on {day_words(day)}." if complete
                    else "No stories so far today."),
    )
