"""Digest runs started over HTTP: queued, run in the background, their state in the database.

``POST /v1/digests/{date}`` answers at once (202) with the run's status; building a large
digest and posting its messages one a second would outlast a reverse proxy's timeout. One
worker thread per process runs them in order.

The state of each run lives in the ``digest_runs`` table, one row per (digest name, day):
the latest run of the day, so ``GET /v1/digests/{date}`` shows it from any replica. A queued
or running run is owned by the process that queued it through the lease
``digest-run:<name>:<day>`` (service/storage/leases.py), renewed from the moment it is queued
until it ends:

- a day whose run is queued or running, in any replica, gets that run back instead of a second
  one. The row and the lease change in one transaction, so two starts at once (in one replica
  or two) make one run;
- a run still queued takes on what a later request adds: ``deliver`` and ``force``;
- a run already running cannot: a request with ``force`` for a run that is not forced is
  refused, 409 ``digest_run_in_progress`` with Retry-After; retry when the run has ended;
- a queued or running run whose owner stopped renewing its lease (the process died) is shown
  as failed (``run_lost``) and the next start takes the day over with a new run. The run of a
  stalled owner that comes back finds the row no longer its own and writes nothing.

The delivery ledger (not this table) is what makes delivery exactly-once across processes.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, and_, select, update

from service.errors import BriefingError, ClientError, StorageError
from service.results import DigestRun
from service.storage.database import Database
from service.storage.leases import DatabaseLeases, Lease, new_owner
from service.storage.schema import digest_runs, leases

log = logging.getLogger(__name__)

DAILY = "daily"
ACTIVE = ("queued", "running")


class RunJob(Protocol):
    """What a run runs (:class:`service.digest.job.DailyJob`)."""

    def check(self, day: date, *, send: bool = True) -> None: ...

    def run(self, day: date, *, send: bool = True, force: bool = False) -> dict[str, Any]: ...


class DigestRunInProgress(ClientError):
    """A forced run was asked for while the day's run (not forced) is running."""

    status = 409
    code = "digest_run_in_progress"

    def __init__(self, message: str, *, retry_after_s: int = 30) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class Run:
    """A run as the API shows it (``DigestRun``)."""

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
        return self.status in ACTIVE


@dataclass
class _Row:
    run: Run
    owner: str | None
    alive: bool  # its owner holds the run's lease now


def _now() -> datetime:
    return datetime.now(UTC)


def _text(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when is not None else None


def _loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def _dumps(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class DigestRuns:
    """Runs of one digest (``name``) on this process's worker thread; their state in the
    ``digest_runs`` table, shared by every replica.

    ``lease_s``: a queued or running run whose owner has not renewed its lease for this long
    is taken over.
    """

    def __init__(
        self, job: RunJob, database: Database, *, name: str = DAILY, lease_s: float = 60.0,
    ) -> None:
        self._job = job
        self.database = database
        self.name = name
        self.lease_s = lease_s
        self.leases = DatabaseLeases(database)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-run")
        # runs this process queued and has not finished: owner -> (day, lease renewal)
        self._pending: dict[str, tuple[date, ExitStack]] = {}
        self._lock = threading.Lock()

    def lease_name(self, day: date) -> str:
        return f"digest-run:{self.name}:{day.isoformat()}"

    # -- the API ---------------------------------------------------------------------------

    def start(self, day: date, *, send: bool, force: bool) -> DigestRun:
        """Queue a run of ``day`` (or find the one queued or running in any replica); its
        status. Raises :class:`DigestRunInProgress` for ``force`` while an unforced run
        runs."""
        self._job.check(day, send=send)
        for _ in range(5):
            outcome = self._claim(day, send=send, force=force)
            if outcome is not None:
                run, owner = outcome
                if owner is not None:
                    self._queue(day, owner)
                return asdict(run)
        # Lost the race for the lease five times in a row: someone else keeps starting it.
        found = self.status(day)
        if found is None:
            raise StorageError(f"could not start the digest run of {day}: its lease is busy")
        return found

    def status(self, day: date) -> DigestRun | None:
        """The latest run of ``day`` (None: never started); a queued or running run whose
        owner is gone shows as failed (``run_lost``)."""
        with self.database.read("could not read the digest run") as conn:
            row = self._row(conn, day)
        if row is None:
            return None
        return asdict(row.run if row.alive or not row.run.active else self._lost(row))

    def close(self) -> None:
        """Finish the run in progress; drop the queued ones (marked failed, so no replica
        waits for them)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            dropped, self._pending = self._pending, {}
        for owner, (day, renewal) in dropped.items():
            renewal.close()
            self._finish(day, owner, None, {
                "code": "run_cancelled",
                "message": "the service stopped before the run began; start it again",
            }, status="failed", started=False)

    # -- the row ---------------------------------------------------------------------------

    def _where(self, day: date) -> tuple[Any, ...]:
        return digest_runs.c.name == self.name, digest_runs.c.day == day.isoformat()

    def _row(self, db: Connection, day: date, *, lock: bool = False) -> _Row | None:
        """The day's run and whether its owner holds its lease.

        Read: the row and its lease in one statement, one snapshot (in two, PostgreSQL could
        show a run that ended between them as running without its lease: lost). ``lock``
        (PostgreSQL: the row held until commit; SQLite: the file's write lock is held): the
        row first, then its lease in a statement of its own, which sees the latest commit;
        the lease changes with the row (under that lock) or only moves forward (renewals).
        """
        lease = self.lease_name(day)
        if lock:
            found = db.execute(select(digest_runs).where(*self._where(day))
                               .with_for_update()).mappings().first()
            if found is None:
                return None
            holder = db.execute(select(leases.c.owner).where(
                leases.c.name == lease, leases.c.expires_at > time.time())
            ).scalar_one_or_none()
        else:
            found = db.execute(
                select(digest_runs, leases.c.owner.label("holder"),
                       leases.c.expires_at.label("expires_at"))
                .select_from(digest_runs.outerjoin(leases, leases.c.name == lease))
                .where(*self._where(day))
            ).mappings().first()
            if found is None:
                return None
            live = found["expires_at"] is not None and found["expires_at"] > time.time()
            holder = found["holder"] if live else None
        run = Run(
            deliver=bool(found["deliver"]), force=bool(found["force"]),
            queued_at=_text(found["queued_at"]) or "", status=found["status"],
            started_at=_text(found["started_at"]), finished_at=_text(found["finished_at"]),
            delivery=_loads(found["delivery"]), error=_loads(found["error"]),
        )
        owner = found["owner"]
        return _Row(run, owner, owner is not None and holder == owner)

    def _lost(self, row: _Row) -> Run:
        return Run(**{**asdict(row.run), "status": "failed", "error": {
            "code": "run_lost",
            "message": f"the process that {'ran' if row.run.status == 'running' else 'queued'}"
                       f" this run ({row.owner}) stopped renewing its lease; start the run "
                       "again",
        }})

    def _claim(self, day: date, *, send: bool,
               force: bool) -> tuple[Run, str | None] | None:
        """In one transaction: the day's live run (owner None: nothing to queue here), or a
        new queued run owned by a new owner; None when another start took the lease first
        (try again: its run is committed by then)."""
        with self.database.write("could not start the digest run") as db:
            row = self._row(db, day, lock=True)
            if row is not None and row.run.active and row.alive:
                return self._join(db, day, row, send=send, force=force), None
            owner = new_owner()
            if not self.leases.acquire(self.lease_name(day), owner, self.lease_s, conn=db):
                return None
            if row is not None and row.run.active:
                log.warning("digest run %s for %s: its owner %s is gone; taking it over",
                            self.name, day, row.owner)
            values = {"status": "queued", "deliver": int(send), "force": int(force),
                      "owner": owner, "queued_at": _now(), "started_at": None,
                      "finished_at": None, "delivery": None, "error": None}
            db.execute(self.database.upsert(digest_runs, ["name", "day"]),
                       {"name": self.name, "day": day.isoformat(), **values})
            made = self._row(db, day)
            assert made is not None
            return made.run, owner

    def _join(self, db: Connection, day: date, row: _Row, *, send: bool,
              force: bool) -> Run:
        """A request for a day whose run is live: a queued run takes on ``send`` and
        ``force``; a running one answers as it is, or refuses a ``force`` it cannot add."""
        run = row.run
        if run.status == "queued":
            if (send and not run.deliver) or (force and not run.force):
                db.execute(update(digest_runs).where(*self._where(day)).values(
                    deliver=int(run.deliver or send), force=int(run.force or force)))
                run.deliver, run.force = run.deliver or send, run.force or force
            return run
        if force and not run.force:
            raise DigestRunInProgress(
                f"the digest run of {day} started at {run.started_at} is running without "
                "force; a forced run cannot join it. Retry when it has ended (GET shows its "
                "status)", retry_after_s=max(1, int(self.lease_s / 2)))
        return run

    # -- the worker ------------------------------------------------------------------------

    def _queue(self, day: date, owner: str) -> None:
        lease = Lease(self.leases, self.lease_name(day), owner, self.lease_s)
        renewal = ExitStack()
        renewal.enter_context(lease.kept(release=False))  # renewed while queued and running
        with self._lock:
            self._pending[owner] = (day, renewal)
        try:
            # the run logs with the id of the request that started it
            self._pool.submit(contextvars.copy_context().run, self._execute, day, owner)
        except RuntimeError:  # the worker is shut down: the service is stopping
            with self._lock:
                self._pending.pop(owner, None)
            renewal.close()
            self._finish(day, owner, None, {
                "code": "run_cancelled", "message": "the service is stopping; start it again",
            }, status="failed", started=False)

    def _begin(self, day: date, owner: str) -> tuple[bool, bool] | None:
        """Mark our queued run running; (deliver, force) as they are now, None when the run
        is no longer ours (taken over)."""
        with self.database.write("could not start the digest run") as db:
            begun = db.execute(
                update(digest_runs)
                .where(*self._where(day), digest_runs.c.owner == owner,
                       digest_runs.c.status == "queued")
                .values(status="running", started_at=_now())
            ).rowcount
            if not begun:
                return None
            row = self._row(db, day)
            assert row is not None
            return row.run.deliver, row.run.force

    def _execute(self, day: date, owner: str) -> None:
        with self._lock:
            _, renewal = self._pending.get(owner, (day, ExitStack()))
        delivery: dict[str, Any] | None = None
        error: dict[str, str] | None = None
        try:
            begun = self._begin(day, owner)
            if begun is None:
                log.warning("digest run %s for %s was taken over before it began; skipped",
                            self.name, day)
                return
            send, force = begun
            try:
                delivery = self._job.run(day, send=send, force=force)["delivery"]
            except BriefingError as exc:
                log.warning("digest run for %s failed: %s", day, exc.message)
                error = {"code": exc.code, "message": exc.message}
            except Exception:  # a bug: logged with its traceback, reported without it
                log.exception("digest run for %s failed", day)
                error = {"code": "internal_error", "message": "internal error; it was logged"}
            renewal.close()
            self._finish(day, owner, delivery, error,
                         status="failed" if error else "done", started=True)
        except StorageError as exc:  # the lease runs out; the run shows as lost
            log.error("digest run %s for %s: %s", self.name, day, exc.message)
        finally:
            renewal.close()
            with self._lock:
                self._pending.pop(owner, None)

    def _finish(self, day: date, owner: str, delivery: dict[str, Any] | None,
                error: dict[str, str] | None, *, status: str, started: bool) -> None:
        """Record how our run ended and give its lease up, in one transaction; nothing when
        the run was taken over meanwhile."""
        try:
            with self.database.write("could not record the digest run") as db:
                mine = and_(*self._where(day), digest_runs.c.owner == owner)
                done = db.execute(update(digest_runs).where(mine).values(
                    status=status, finished_at=_now(), delivery=_dumps(delivery),
                    error=_dumps(error))).rowcount
                self.leases.release(self.lease_name(day), owner, conn=db)
        except StorageError as exc:  # the lease runs out; the run shows as lost
            log.error("digest run %s for %s: %s", self.name, day, exc.message)
            return
        if not done:
            log.warning("digest run %s for %s was taken over by another process %s; its "
                        "outcome (%s) is not recorded", self.name, day,
                        "while it ran" if started else "before it began", status)


__all__ = ["DAILY", "DigestRunInProgress", "DigestRuns", "Run"]
