"""Content-addressed cache of briefing results, in the service's database.

The key is a sha256 over everything that decides the output (normalized text, engine, model
and revision, prompt version, generation settings, preprocessing version and length rules):
changing any of them misses, nothing else may. Results survive restarts, and replicas on one
PostgreSQL share them (with Redis, :class:`service.storage.hot_cache.HotCache` sits in front).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from service.storage import Database
from service.storage.schema import aliases as alias_table
from service.storage.schema import briefings


def cache_key(**parts: Any) -> str:
    """sha256 over the canonical JSON of ``parts`` (sorted keys, so order never matters)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DatabaseCache:
    """Briefing results by key (``briefings``), and raw-text aliases of keys (``aliases``)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, key: str) -> dict[str, Any] | None:
        with self.database.read("cache read") as conn:
            found = conn.execute(
                select(briefings.c.result).where(briefings.c.key == key)
            ).scalar_one_or_none()
        return json.loads(found) if found is not None else None

    def get_by_alias(self, alias: str) -> dict[str, Any] | None:
        """The result stored for ``alias`` (see :meth:`put`), or None."""
        with self.database.read("cache read") as conn:
            found = conn.execute(
                select(briefings.c.result)
                .join(alias_table, alias_table.c.key == briefings.c.key)
                .where(alias_table.c.alias == alias)
            ).scalar_one_or_none()
        return json.loads(found) if found is not None else None

    def put(self, key: str, result: dict[str, Any], *, aliases: tuple[str, ...] = ()) -> None:
        """Store ``result`` under ``key``, and make each alias lead to it too."""
        row = {"key": key, "result": json.dumps(result, ensure_ascii=False),
               "created_at": datetime.now(UTC)}
        with self.database.write("cache write") as conn:
            conn.execute(self.database.upsert(briefings, ["key"]), row)
            if aliases:
                conn.execute(self.database.upsert(alias_table, ["alias"]),
                             [{"alias": alias, "key": key} for alias in aliases])


__all__ = ["DatabaseCache", "cache_key"]
