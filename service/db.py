"""Opening the service's SQLite files the same way everywhere (WAL, busy timeout, schema)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            return _open(path, schema, timeout_s)
        except sqlite3.OperationalError as exc:
            # Two processes creating the same new file race for the switch to WAL, and
            # SQLite answers "locked" at once there instead of waiting: retry, bounded.
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the {what} at {path}: {exc}") from exc


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """SQLite errors inside become :class:`StorageError` ("``what``: the error"): the one
    place where the driver's errors turn into the service's (503 ``storage_error``)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"{what}: {exc}") from exc


def _open(path: Path, schema: str, timeout_s: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, timeout=timeout_s)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL still survives a killed process (kill -9): a commit is in the
        # log before it returns; only a power cut can lose the newest commits. FULL would
        # fsync every acknowledged article and cost milliseconds per request.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
        db.commit()
    except BaseException:
        db.close()
        raise
    return db
