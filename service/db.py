"""Opening the service's SQLite files the same way everywhere (WAL, busy timeout, schema)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.errors import StorageError


def open_sqlite(
    path: Path, schema: str, *, what: str, timeout_s: float = 5.0
) -> sqlite3.Connection:
    """A connection shared across threads (callers serialize with a lock), schema applied.

    WAL lets readers run beside the one writer; the busy timeout turns a briefly locked file
    into a short wait instead of an error. Failures become :class:`StorageError` naming
    ``what`` and the path, so the message says which file to look at.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, timeout=timeout_s)
        db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives a killed process (kill -9): a commit is in the
        # log before it returns; only a power cut can lose the newest commits. FULL would
        # fsync every acknowledged article and cost milliseconds per request.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
        db.commit()
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc
    return db
