"""Content-addressed cache of briefing results in SQLite.

The key is a sha256 over everything that decides the output (normalized text, engine, model
and revision, prompt version, generation settings, preprocessing version and length rules):
changing any of them misses, nothing else may. Results survive restarts.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from service.db import open_sqlite, storage_errors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS briefings (
    key TEXT PRIMARY KEY, result TEXT NOT NULL, created_at REAL NOT NULL
);
-- The same request seen as raw text: lets a repeated POST skip preprocessing.
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL);
"""


def cache_key(**parts: Any) -> str:
    """sha256 over the canonical JSON of ``parts`` (sorted keys, so order never matters)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class SQLiteCache:
    """Briefing results by key; one connection guarded by a lock (writes are tiny)."""

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        self.path = path
        self._db = open_sqlite(path, _SCHEMA, what="cache", timeout_s=timeout_s)
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with storage_errors("cache read failed"):
            with self._lock:
                row = self._db.execute(
                    "SELECT result FROM briefings WHERE key = ?", (key,)
                ).fetchone()
        return json.loads(row[0]) if row else None

    def get_by_alias(self, alias: str) -> dict[str, Any] | None:
        """The result stored for ``alias`` (see :meth:`put`), or None."""
        with storage_errors("cache read failed"):
            with self._lock:
                row = self._db.execute(
                    "SELECT b.result FROM aliases a JOIN briefings b ON b.key = a.key"
                    " WHERE a.alias = ?", (alias,),
                ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, result: dict[str, Any], *, aliases: tuple[str, ...] = ()) -> None:
        """Store ``result`` under ``key``, and make each alias lead to it too."""
        with storage_errors("cache write failed"):
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO briefings (key, result, created_at) VALUES (?, ?, ?)",
                    (key, json.dumps(result, ensure_ascii=False), time.time()),
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO aliases (alias, key) VALUES (?, ?)",
                    [(alias, key) for alias in aliases],
                )
                self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
