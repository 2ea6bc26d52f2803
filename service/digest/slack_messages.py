"""The digest as Slack messages: Block Kit payloads that always fit Slack's limits.

Slack rejects a whole message for one oversized field (``invalid_blocks``), silently mangles
unescaped ``&``/``<``/``>``, and rate-limits bursts. So the planner (:func:`plan_messages`) is
pure: it turns a digest into payloads within every limit, deterministically, so a delivery
that failed half-way can resume at a message index and send exactly the same messages.
:func:`message_input` is the digest (as built by :mod:`service.digest.build`) as the
planner's input. Posting them is :mod:`service.digest.slack_webhook`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from service.preprocess import split_sentences

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

ELLIPSIS = "…"
DEFAULT_HEADING = "Briefing"

_MRKDWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_TRAILING_JUNK = " \t\n,;:-–—"



@dataclass(frozen=True)
class DigestStory:
    """One story of the digest: a title, its short briefing, how many sources it merges."""

    title: str
    briefing: str
    sources: int = 1
    url: str | None = None

    def __post_init__(self) -> None:
        if self.sources < 1:
            raise ValueError(f"sources must be >= 1, got {self.sources}")


@dataclass(frozen=True)
class DigestMessageInput:
    """The whole digest: a heading such as "Daily briefing — 2026-11-27" and its stories."""

    heading: str
    stories: list[DigestStory] = field(default_factory=list)
    overview: str | None = None


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


def _story_text(story: DigestStory) -> str:
    """Render one story as section mrkdwn: bold (linked) title, briefing, "N sources"."""
    title = truncate(_one_line(story.title) or "Untitled", TITLE_MAX)
    target = _link_target(story.url)
    head = f"*<{target}|{title}>*" if target else f"*{title}*"
    tail = f"\n_{story.sources} sources_" if story.sources > 1 else ""
    room = SECTION_TEXT_MAX - _units(head) - _units(tail) - 1  # 1 for the newline
    body = truncate(_clean(story.briefing), room)
    return head + (f"\n{body}" if body else "") + tail


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


_DIVIDER: dict[str, Any] = {"type": "divider"}


def _pack(
    texts: list[str], *, first_overhead: tuple[int, int], max_blocks: int, max_chars: int
) -> list[list[str]]:
    """Greedily group story texts into messages within the block and character budgets.

    Every message starts with a header (counted at its maximum length, so packing does not
    depend on the "(i/n)" suffix); the first message may also carry the overview (section +
    divider). Stories are separated by dividers. A message always takes at least one story.
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
    short top-level ``text`` fallback for notifications. When the digest needs several
    messages, each header and fallback is numbered "(i/n)". The same digest always gives the
    same payloads. A digest without stories gives one message that says so.
    """
    if not 4 <= max_blocks <= MAX_BLOCKS:
        raise ValueError(f"max_blocks must be between 4 and {MAX_BLOCKS}")
    if max_chars < 1:
        raise ValueError("max_chars must be positive")

    heading = _one_line(digest.heading) or DEFAULT_HEADING
    overview = truncate(_clean(digest.overview), SECTION_TEXT_MAX) if digest.overview else ""
    stories = list(digest.stories)
    texts = [_story_text(story) for story in stories]
    overhead = (2, _units(overview)) if overview else (0, 0)
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
        if number == 1 and overview:
            blocks += [_section(overview), _DIVIDER]
        for i, text in enumerate(group):
            if i:
                blocks.append(_DIVIDER)
            blocks.append(_section(text))
        if not stories:
            blocks.append(_section("_No stories today._"))
        elif blocks[-1] is _DIVIDER:
            blocks.pop()

        titles = [
            _one_line(s.title) or "Untitled"
            for s in stories[story_index : story_index + len(group)]
        ]
        story_index += len(group)
        prefix = escape_mrkdwn(header)
        detail = "; ".join(titles) if titles else "no stories today"
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
