"""A shared hot cache in Redis in front of the database's briefing cache.

Every replica reads the same Redis, so a briefing one replica wrote is a Redis hit for all
of them; a miss falls through to the database and the hit found there is copied up. Memory is
bounded twice: each entry expires ``ttl_s`` after it was last written or copied up, and the
server evicts the least recently used keys at its ``maxmemory`` (docker-compose.yml sets
``allkeys-lru``; see docs/scaling.md for the sizes). Entries are zlib-compressed JSON (a
briefing is 2-4 KB of JSON, about 1.2 KB stored).

When Redis fails, :class:`~service.storage.redis_link.RedisLink` answers None and this cache
is exactly the database's: slower, never wrong, never lost.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Protocol

from service.storage.redis_link import RedisLink

# A result larger than this stays in the database only (it would crowd out many others).
MAX_ENTRY_BYTES = 256 * 1024


class BriefingCache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def get_by_alias(self, alias: str) -> dict[str, Any] | None: ...

    def put(self, key: str, result: dict[str, Any], *, aliases: tuple[str, ...] = ()) -> None: ...


def _pack(result: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode())


def _unpack(blob: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(zlib.decompress(blob))
    return loaded


class HotCache:
    """Redis first, then ``inner`` (the database); the same interface as ``inner``."""

    def __init__(self, inner: BriefingCache, link: RedisLink, *, ttl_s: int) -> None:
        self.inner = inner
        self.link = link
        self.ttl_s = ttl_s

    def _briefing_key(self, key: str) -> str:
        return self.link.key("b", key)

    def _alias_key(self, alias: str) -> str:
        return self.link.key("a", alias)

    def get(self, key: str) -> dict[str, Any] | None:
        blob = self.link.call("cache_get", lambda r: r.get(self._briefing_key(key)))
        if blob is not None:
            return _unpack(blob)  # type: ignore[arg-type]
        found = self.inner.get(key)
        if found is not None:
            self._copy_up(key, found, ())
        return found

    def get_by_alias(self, alias: str) -> dict[str, Any] | None:
        def both(r: Any) -> Any:
            key = r.get(self._alias_key(alias))
            return r.get(self._briefing_key(key.decode())) if key else None

        blob = self.link.call("cache_get", both)
        if blob is not None:
            return _unpack(blob)  # type: ignore[arg-type]
        found = self.inner.get_by_alias(alias)
        if found is not None and isinstance(found.get("id"), str):
            self._copy_up(found["id"], found, (alias,))
        return found

    def put(self, key: str, result: dict[str, Any], *, aliases: tuple[str, ...] = ()) -> None:
        """The database first (the record), then Redis (the copy everyone reads first)."""
        self.inner.put(key, result, aliases=aliases)
        self._copy_up(key, result, aliases)

    def _copy_up(self, key: str, result: dict[str, Any], aliases: tuple[str, ...]) -> None:
        blob = _pack(result)
        if len(blob) > MAX_ENTRY_BYTES:
            return

        def write(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.set(self._briefing_key(key), blob, ex=self.ttl_s)
            for alias in aliases:
                pipe.set(self._alias_key(alias), key, ex=self.ttl_s)
            pipe.execute()

        self.link.call("cache_put", write)


__all__ = ["MAX_ENTRY_BYTES", "BriefingCache", "HotCache"]
