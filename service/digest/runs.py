"""Digest runs started over HTTP: queued, run in the background, their status kept.

``POST /v1/digests/{date}`` answers at once (202) with the run's status; building a large
digest and posting its messages one a second would outlast a reverse proxy's timeout. One
worker thread runs them in order; a day that already has a queued or running run gets that
run back instead of a second one. The latest run of each day is remembered in memory (this
process's view; the delivery ledger is what makes delivery exactly-once across processes).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from service.digest.job import DailyJob
from service.errors import BriefingError

log = logging.getLogger(__name__)

KEEP_DAYS = 64  # finished runs remembered (the oldest are forgotten first)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Run:
    deliver: bool
    force: bool
    queued_at: str
    status: Literal["queued", "running", "done", "failed"] = "queued"
    started_at: str | None = None
    finished_at: str | None = None
    delivery: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class DigestRuns:
    """Runs of :class:`DailyJob` on one background thread, and the latest status per day."""

    def __init__(self, job: DailyJob) -> None:
        self._job = job
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-run")
        self._latest: dict[str, Run] = {}
        self._lock = threading.Lock()

    def start(self, day: date, *, send: bool, force: bool) -> dict[str, Any]:
        """Queue a run of ``day`` (or find the one queued or running); its status."""
        self._job.check(day, send=send)
        with self._lock:
            run = self._latest.get(day.isoformat())
            if run is None or not run.active:
                run = Run(deliver=send, force=force, queued_at=_now())
                self._latest.pop(day.isoformat(), None)
                self._latest[day.isoformat()] = run
                self._forget_old()
                # the run logs with the id of the request that started it
                self._pool.submit(contextvars.copy_context().run, self._execute, day, run)
            return asdict(run)

    def status(self, day: date) -> dict[str, Any] | None:
        with self._lock:
            run = self._latest.get(day.isoformat())
            return asdict(run) if run is not None else None

    def close(self) -> None:
        """Finish the run in progress; drop the queued ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _forget_old(self) -> None:
        finished = [day for day, run in self._latest.items() if not run.active]
        for day in finished[: max(0, len(self._latest) - KEEP_DAYS)]:
            del self._latest[day]

    def _execute(self, day: date, run: Run) -> None:
        with self._lock:
            run.status, run.started_at = "running", _now()
        delivery: dict[str, Any] | None = None
        error: dict[str, str] | None = None
        try:
            delivery = self._job.run(day, send=run.deliver, force=run.force)["delivery"]
        except BriefingError as exc:
            log.warning("digest run for %s failed: %s", day, exc.message)
            error = {"code": exc.code, "message": exc.message}
        except Exception:  # a bug: logged with its traceback, reported without it
            log.exception("digest run for %s failed", day)
            error = {"code": "internal_error", "message": "internal error; it was logged"}
        with self._lock:
            run.delivery, run.error = delivery, error
            run.status = "failed" if error else "done"
            run.finished_at = _now()
