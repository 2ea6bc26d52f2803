"""What the pages show, worked out from the services' results: pure functions, no HTTP.

Everything here returns plain text pieces; the templates escape them (Jinja2 autoescape), so
nothing an article says can become markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Segment:
    """A piece of a briefing: plain text, or a sentence the checker flagged (``missing`` set)."""

    text: str
    missing: tuple[str, ...] = ()
    note: int = 0  # the flag's number in the list under the briefing; 0 for plain text


@dataclass(frozen=True)
class Marked:
    """A briefing cut into pieces with its flags marked, and the flags that mark nothing."""

    segments: list[Segment]
    unplaced: list[dict[str, Any]]  # not in the text: BRIEFING_UNSUPPORTED=drop removed them

    @property
    def notes(self) -> list[Segment]:
        """The marked pieces, in the order of their numbers (the order they appear in)."""
        return [s for s in self.segments if s.note]


def mark_flags(text: str, flags: list[dict[str, Any]]) -> Marked:
    """``text`` cut into plain and flagged pieces, flags numbered in order of appearance.

    A flagged sentence is marked where it first occurs outside another mark; one that is not
    in the text (dropped) is listed apart.
    """
    found: list[tuple[int, int, tuple[str, ...]]] = []
    unplaced = []
    for flag in flags:
        sentence = flag.get("sentence") or ""
        at = text.find(sentence) if sentence else -1
        while at != -1 and any(start < at + len(sentence) and at < end
                               for start, end, _ in found):
            at = text.find(sentence, at + 1)
        if at == -1:
            unplaced.append(flag)
        else:
            found.append((at, at + len(sentence), tuple(flag.get("missing") or ())))
    found.sort()
    segments, cursor = [], 0
    for number, (start, end, missing) in enumerate(found, 1):
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], missing, number))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return Marked(segments, unplaced)


def removed_summary(info: dict[str, Any]) -> list[str]:
    """What preprocessing removed or cut, in words (empty when it removed nothing)."""
    parts = []

    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    exact, near = info.get("exact_duplicates_removed", 0), info.get("near_duplicates_removed", 0)
    if exact or near:
        parts.append(count(exact + near, "repeated paragraph", "repeated paragraphs")
                     + (f" ({near} near-identical)" if near else ""))
    elif info.get("duplicates_removed"):
        parts.append(count(info["duplicates_removed"], "repeated paragraph",
                           "repeated paragraphs"))
    if info.get("sentence_duplicates_removed"):
        parts.append(count(info["sentence_duplicates_removed"], "repeated sentence",
                           "repeated sentences"))
    if info.get("title_repeats_removed"):
        parts.append(count(info["title_repeats_removed"], "repeat of the title",
                           "repeats of the title"))
    if info.get("boilerplate_removed"):
        parts.append(count(info["boilerplate_removed"], "line of page furniture",
                           "lines of page furniture") + " (share buttons, bylines, ads)")
    if info.get("control_chars_removed"):
        parts.append(count(info["control_chars_removed"], "control character",
                           "control characters"))
    if info.get("truncated"):
        dropped = info.get("dropped_chars") or 0
        parts.append(f"{dropped:,} characters cut from the end (too long to brief whole)"
                     if dropped else "the end cut (too long to brief whole)")
    return parts


_DELIVERY = {
    "not_configured": "Not sent: no Slack webhook is configured (BRIEFING_SLACK_WEBHOOK_URL).",
    "not_delivered": "Not delivered to Slack yet.",
    "not_requested": "Built without delivering.",
    "day_not_over": "The day is not over: it is delivered to Slack after midnight.",
    "delivered": "Delivered to Slack.",
    "already_delivered": "Delivered to Slack.",
    "pending": "Delivery to Slack has begun.",
    "sending": "Being delivered to Slack.",
    "failed": "Delivery to Slack failed; the next run retries it.",
}


def delivery_words(delivery: dict[str, Any] | None) -> str:
    """The delivery state of a digest in one sentence."""
    status = (delivery or {}).get("status") or "unknown"
    words = _DELIVERY.get(status, f"Delivery: {status.replace('_', ' ')}.")
    if status in ("delivered", "already_delivered") and (delivery or {}).get("delivered_at"):
        words = f"Delivered to Slack at {delivery['delivered_at']}."  # type: ignore[index]
    return words


def run_words(run: dict[str, Any] | None) -> str:
    """The latest run that ``POST /v1/digests/{date}`` started, in one sentence."""
    if not run:
        return ""
    status = run.get("status")
    if status == "queued":
        return "A run to build this digest is queued; reload to follow it."
    if status == "running":
        return "This digest is being built now; reload in a moment."
    if status == "failed":
        error = run.get("error") or {}
        return f"The last run failed: {error.get('message') or 'see the server log'}"
    return "The last run finished."


def safe_link(url: str | None) -> str | None:
    """An article's URL when it may be a link: http(s) with a host; never ``javascript:``."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.strip()


def local_time(moment: str | datetime | None, zone: ZoneInfo) -> str:
    """``HH:MM`` of an ISO timestamp in the service's time zone ('' when there is none)."""
    if not moment:
        return ""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(zone).strftime("%H:%M")


@dataclass(frozen=True)
class DayNav:
    """The day shown, the days before and after (None: after today), and today."""

    day: date
    previous: date
    next: date | None
    today: date


def day_nav(day: date, today: date) -> DayNav:
    following = day + timedelta(days=1)
    return DayNav(day, day - timedelta(days=1), following if following <= today else None, today)


__all__ = [
    "DayNav", "Marked", "Segment", "day_nav", "delivery_words", "local_time", "mark_flags",
    "removed_summary", "run_words", "safe_link",
]
