"""Per-API-key rate limit (``BRIEFING_RATE_LIMIT``, e.g. ``60/minute``), shared by replicas.

Counting uses the ``limits`` library's sliding-window counter (two small counters per key
and window, no list of timestamps). With Redis (``BRIEFING_REDIS_URL``) the counters live
there, so N replicas together allow the limit, not N times it; without Redis, or while Redis
is away, each replica counts in its own memory (a warning and ``briefing_redis_errors`` say
so). A request over the limit is answered 429 ``rate_limited`` with Retry-After.

Callers are known by their API key (a hash of it: keys never reach Redis or logs), or by
their address when the API is open.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from service.config import parse_rate
from service.errors import RateLimited
from service.storage.redis_link import RedisLink


def caller_identity(api_key: bytes | None, address: str | None) -> str:
    """Who a request counts against: ``key:<hash>`` or ``addr:<address>``."""
    if api_key:
        return "key:" + hashlib.sha256(api_key).hexdigest()[:24]
    return "addr:" + (address or "unknown")


class RateLimiter:
    """``check(identity)`` counts one request, raising :class:`RateLimited` when over."""

    def __init__(self, spec: str, link: RedisLink | None = None) -> None:
        self.item = parse_rate(spec)
        self.spec = spec
        self.link = link
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared = None
        if link is not None:
            storage = RedisStorage(
                "redis://", connection_pool=link.client.connection_pool,
                key_prefix=link.key("ratelimit"),
            )
            self._shared = SlidingWindowCounterRateLimiter(storage)

    def check(self, identity: str) -> None:
        limiter = self._local
        allowed: bool | None = None
        if self._shared is not None and self.link is not None:
            shared = self._shared
            allowed = self.link.call("rate_limit", lambda _r: shared.hit(self.item, identity))
            if allowed is not None:
                limiter = shared
        if allowed is None:
            allowed = self._local.hit(self.item, identity)
            limiter = self._local
        if allowed:
            return
        retry_after = 1
        stats = None
        if limiter is self._local:
            stats = limiter.get_window_stats(self.item, identity)
        elif self.link is not None:
            stats = self.link.call("rate_limit",
                                   lambda _r: limiter.get_window_stats(self.item, identity))
        if stats is not None:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"over the rate limit of {self.spec} for this API key; retry after {retry_after}s",
            retry_after_s=retry_after,
        )


__all__ = ["RateLimiter", "caller_identity", "parse_rate"]
