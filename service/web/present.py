"""What the pages show, worked out from the services' results: pure functions, no HTTP.

Everything here returns plain text pieces; the templates escape them (Jinja2 autoescape), so
nothing an article says can become markup.
"""

from __future__ import annotations

import re
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


def delivery_words(delivery: dict[str, Any] | None, zone: ZoneInfo | None = None) -> str:
    """The delivery state of a digest in one sentence (a time as :func:`human_time` in
    ``zone``)."""
    status = (delivery or {}).get("status") or "unknown"
    words = _DELIVERY.get(status, f"Delivery: {status.replace('_', ' ')}.")
    if status in ("delivered", "already_delivered") and (delivery or {}).get("delivered_at"):
        at = human_time(delivery["delivered_at"], zone)  # type: ignore[index]
        words = f"Delivered to Slack on {at}."
    return words


_DESTINATION = {
    "not_delivered": "Not delivered yet.",
    "pending": "Delivery has begun.",
    "sending": "Being delivered.",
    "busy": "Another run is delivering it now.",
    "failed": "Delivery failed; the next run retries this destination on its own.",
}


def destination_words(entry: dict[str, Any], zone: ZoneInfo | None = None) -> str:
    """One destination's delivery of a digest's period (``GET /v1/digests/{name}/{date}``'s
    ``delivery.destinations[i]``) in one sentence; its URL is never part of it."""
    status = entry.get("status") or "unknown"
    if status in ("delivered", "already_delivered"):
        at = human_time(entry.get("delivered_at"), zone)
        messages = entry.get("messages") or 0
        words = f"Delivered on {at}" if at else "Delivered"
        return words + (f" in {messages} messages." if messages > 1 else ".")
    words = _DESTINATION.get(status, f"Delivery: {status.replace('_', ' ')}.")
    if status == "failed" and entry.get("last_error"):
        words += f" The last error: {entry['last_error']}"
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


@dataclass(frozen=True)
class ErrorWords:
    """An error as a page tells a person: what happened and what to do, in plain words;
    ``detail``: the API's own message, when it says something the words do not (which
    address, which limit); ``operator``: the fault is the service's, and whoever runs it can
    see why (the page links to /readyz)."""

    what: str
    todo: str = ""
    detail: str = ""
    operator: bool = False


_TRY_AGAIN = "Try again in a moment."
_PASTE_INSTEAD = "Paste the article's text instead."
# code: (what happened, what to do, show the API's message as detail, the service's fault)
_ERROR_WORDS: dict[str, tuple[str, str, bool, bool]] = {
    "empty_text": ("There is no article to brief.",
                   "Paste an article's text, or give its URL.", False, False),
    "too_short": ("This text is too short to brief.",
                  "Paste the whole article, not only its headline.", True, False),
    "not_prose": ("This does not read as an article.",
                  "Paste the article's own sentences, without tables, code or data.", True,
                  False),
    "invalid_request": ("Something in the form is not right.", "", True, False),
    "payload_too_large": ("The article is too long for this service.",
                          "Paste a shorter text, or only the article's own part of the page.",
                          True, False),
    "url_not_allowed": ("This address is not one the service may fetch.", _PASTE_INSTEAD,
                        True, False),
    "fetch_failed": ("The page at that address could not be fetched.", _PASTE_INSTEAD, True,
                     False),
    "fetch_timeout": ("The page at that address took too long to answer.", _PASTE_INSTEAD,
                      True, False),
    "too_large": ("The page at that address is too large to fetch.", _PASTE_INSTEAD, True,
                  False),
    "unsupported_content": ("The address is not a web page the service can read.",
                            _PASTE_INSTEAD, True, False),
    "overloaded": ("The service is busy writing other briefings.", _TRY_AGAIN, False, False),
    "rate_limited": ("Too many briefings were asked for in a short time.", _TRY_AGAIN, False,
                     False),
    "starting": ("The service is still starting.", _TRY_AGAIN, False, False),
    "timeout": ("Writing the briefing took too long.",
                "Try again; a shorter text is quicker.", False, True),
    "cancelled": ("The briefing was stopped before it was written.", _TRY_AGAIN, False, False),
    "not_found": ("There is nothing at this address.",
                  "It may have been removed, or the link is mistyped.", False, False),
    "invalid_date": ("That is not a day the pages know.", "Pick a day in the calendar.", True,
                     False),
    "unsupported_media_type": ("The form was not sent as a browser sends it.",
                               "Reload the page and send the form again.", True, False),
}


def error_words(error: Any) -> ErrorWords:
    """What a page says for ``error`` (a :class:`service.errors.BriefingError`): plain words
    by its code; for a code without words, its own message; for the service's own faults
    (5xx), that it failed and that its operator can see why."""
    code = getattr(error, "code", "") or ""
    message = getattr(error, "message", "") or str(error)
    if code in _ERROR_WORDS:
        what, todo, detail, operator = _ERROR_WORDS[code]
        return ErrorWords(what, todo, message if detail else "", operator)
    if getattr(error, "status", 500) >= 500:
        return ErrorWords("The service could not do this.",
                          "Try again later.", message, operator=True)
    return ErrorWords(message[:1].upper() + message[1:])


# A headline: a line of a few words with no sentence punctuation at its end.
_HEADLINE_END = re.compile(r"[.!?…:;,][\"'”’)\]]*$")
ARTICLE_MIN_WORDS = 300  # the median words under a headline, for several articles


def articles_in(text: str) -> int:
    """About how many articles a pasted ``text`` holds: 1, or the number of headlines when
    it looks like several articles back to back (what a list page or a feed reader copies).

    A headline is a line of 5 to 20 words without sentence punctuation at its end, followed
    by prose (a line of at least 12 words that ends like a sentence) at once or after one
    short line (a byline, a date); it counts when it is the first line or prose came between
    it and the last one. Several articles: at least three headlines, with a median of at
    least ``ARTICLE_MIN_WORDS`` words under them. One article's subheadings head shorter
    sections: on the 91 pages of the extraction benchmark (one article each), 14 have three
    or more such lines, all with a median section under 270 words; 3 to 40 CNN/DailyMail
    stories back to back under made-up headlines have a median over 320 (and over 550 from
    10). Where there are no headlines to find, it says 1: nothing it cannot see.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]

    def prose(line: str) -> bool:
        return len(line.split()) >= 12 and bool(_HEADLINE_END.search(line))

    heads: list[int] = []
    prose_before = True  # the first line may be the first article's headline
    for index, line in enumerate(lines):
        if prose(line):
            prose_before = True
        elif (prose_before and 5 <= len(line.split()) <= 20
              and not _HEADLINE_END.search(line)
              and any(prose(after) for after in lines[index + 1 : index + 3])):
            heads.append(index)
            prose_before = False
    if len(heads) < 3:
        return 1
    sizes = sorted(sum(len(line.split()) for line in lines[start + 1 : end])
                   for start, end in zip(heads, [*heads[1:], len(lines)], strict=True))
    return len(heads) if sizes[len(sizes) // 2] >= ARTICLE_MIN_WORDS else 1


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


def human_time(moment: str | datetime | date | None, zone: ZoneInfo | None = None) -> str:
    """A time as people write it, in ``zone`` (the service's): "7 Dec 2026, 09:14"; a date
    alone "7 Dec 2026"; '' for none. A value that is no ISO time is returned as it is (a
    feed's own date text), never raised on. A time without a zone is taken as UTC, as the
    service stores them."""
    if not moment:
        return ""
    if isinstance(moment, str):
        text = moment.strip()
        try:
            if len(text) == 10:
                moment = date.fromisoformat(text)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if not isinstance(moment, datetime):
        return f"{moment.day} {moment:%b %Y}"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    if zone is not None:
        moment = moment.astimezone(zone)
    return f"{moment.day} {moment:%b %Y}, {moment:%H:%M}"


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
    "DayNav", "ErrorWords", "Marked", "Segment", "articles_in", "day_nav", "delivery_words",
    "destination_words", "error_words", "human_time", "local_time", "mark_flags",
    "removed_summary", "run_words", "safe_link",
]
