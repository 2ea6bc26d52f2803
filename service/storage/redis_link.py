"""The connection to Redis (``BRIEFING_REDIS_URL``), and what happens when Redis is away.

Redis is an accelerator here, never the record: the database keeps every article and
briefing. So each Redis call goes through :meth:`RedisLink.call`, which answers ``None``
instead of raising when Redis fails: the caller then does without (reads the database,
computes in this replica, counts against this replica's rate limit). A failure logs one
warning, counts ``briefing_redis_errors`` and opens a short circuit: for ``retry_s`` seconds
no call waits on a dead server; the first call after that tries again, and a success logs
that Redis is back. Timeouts are short, so a hung Redis costs a request well under a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from service.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")


def redact_redis_url(url: str) -> str:
    """The URL without a password (``redis://:secret@host`` → ``redis://:***@host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(unparseable Redis URL)"
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}"


class RedisLink:
    """A Redis client with a key prefix, short timeouts and a circuit breaker."""

    def __init__(
        self, url: str, *, prefix: str = "briefing:", metrics: Metrics | None = None,
        timeout_s: float = 0.5, retry_s: float = 2.0,
        client: redis.Redis | None = None,
    ) -> None:
        self.url = redact_redis_url(url)
        self.prefix = prefix
        self.client = client or redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s,
            health_check_interval=30, retry_on_timeout=False,
        )
        self.metrics = metrics
        self.retry_s = retry_s
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()
        if metrics is not None:
            metrics.redis_up.set(1)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def available(self) -> bool:
        """False while the circuit is open (Redis failed less than ``retry_s`` ago)."""
        return time.monotonic() >= self._down_until

    def call(self, op: str, fn: Callable[[redis.Redis], T]) -> T | None:
        """``fn(client)``, or None when Redis fails or failed moments ago (see the module)."""
        if not self.available:
            return None
        try:
            result = fn(self.client)
        except redis.RedisError as exc:
            self.failed(op, exc)
            return None
        if self._down:
            self._recovered()
        return result

    def failed(self, op: str, exc: BaseException) -> None:
        """Record a failure of ``op``; the circuit stays open for ``retry_s``."""
        with self._lock:
            self._down_until = time.monotonic() + self.retry_s
            first = not self._down
            self._down = True
        if self.metrics is not None:
            self.metrics.redis_errors.labels(op).inc()
            self.metrics.redis_up.set(0)
        if first:
            log.warning("Redis at %s failed (%s: %s); serving from the database and this "
                        "replica until it is back", self.url, op, " ".join(str(exc).split()))

    def _recovered(self) -> None:
        with self._lock:
            was_down, self._down = self._down, False
        if self.metrics is not None:
            self.metrics.redis_up.set(1)
        if was_down:
            log.info("Redis at %s is back", self.url)

    def close(self) -> None:
        self.client.close()


__all__ = ["RedisLink", "redact_redis_url"]
