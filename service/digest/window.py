"""Stage 1 of the digest: a local calendar day as a UTC interval.

DST days are 23 or 25 hours long, and the interval says so.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.errors import InvalidDate

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date, or :class:`InvalidDate` saying what is expected."""
    try:
        if _DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidDate(f"{text[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-29")


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of ``day`` in ``zone``, in UTC: local midnight to the next one.

    zoneinfo resolves a local midnight that does not exist (a gap at 00:00) to the first
    instant after the gap, so the window is always the instants whose local date is ``day``.
    """
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end.astimezone(UTC)


def yesterday(zone: ZoneInfo, now: datetime | None = None) -> date:
    """The local date before today in ``zone``."""
    return (now or datetime.now(UTC)).astimezone(zone).date() - timedelta(days=1)
