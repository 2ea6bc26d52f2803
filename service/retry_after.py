"""Reading a ``Retry-After`` header: delay-seconds, or an HTTP date.

One reader for the clients that back off when a server tells them how long: the fetcher
(service/ingest/fetch.py: feeds back off) and the llm engine (service/engines/llm.py:
retries). It imports nothing of the service, so either may use it.
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max((moment - current).total_seconds(), 0.0)


__all__ = ["retry_after"]
