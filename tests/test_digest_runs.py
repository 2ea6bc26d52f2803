"""Digest runs in the database (service/digest/runs.py), on SQLite and PostgreSQL: a run
started in one replica is seen, joined and reported by another; starts at once make one run;
a queued run takes on a later force; a forced request for a running unforced run is refused
(409); a run whose owner died is shown lost and taken over; a stalled owner that comes back
writes nothing over its successor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from service.digest.runs import DigestRunInProgress, DigestRuns
from service.storage import Database
from service.storage.schema import digest_runs, leases
from tests.digest_support import FERRY_A, run_digest

DAY = date(2026, 3, 14)
OTHER_DAY = date(2026, 3, 15)


class FakeJob:
    """A job whose runs wait for ``release`` (when gated) and say how they were asked."""

    def __init__(self, tag: str, *, gated: bool = False) -> None:
        self.tag = tag
        self.calls: list[tuple[date, bool, bool]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not gated:
            self.release.set()

    def check(self, day: date, *, send: bool = True) -> None:
        pass

    def run(self, day: date, *, send: bool = True, force: bool = False) -> dict[str, Any]:
        self.calls.append((day, send, force))
        self.started.set()
        assert self.release.wait(60)
        return {"digest": {}, "delivery": {"status": "delivered" if send else "not_requested",
                                           "detail": f"by {self.tag}"}}


@pytest.fixture
def two_databases(database_url: str) -> Iterator[tuple[Database, Database]]:
    """Two connections to one database, as two replicas hold them."""
    first, second = Database.connect(database_url), Database.connect(database_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.fixture
def make_runs(two_databases: tuple[Database, Database]) -> Iterator[Callable[..., DigestRuns]]:
    made: list[DigestRuns] = []

    def make(job: FakeJob, replica: int, **kw: Any) -> DigestRuns:
        runs = DigestRuns(job, two_databases[replica], **kw)
        made.append(runs)
        return runs

    yield make
    for runs in made:
        runs._job.release.set()  # type: ignore[attr-defined]
        runs.close()


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 60  # a hang guard, not a speed check
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def finished(runs: DigestRuns, day: date = DAY) -> dict[str, Any]:
    return wait_for(lambda: (lambda s: s if s and s["status"] in ("done", "failed") else None)(
        runs.status(day)), f"the run of {day} to end")


def test_a_run_started_in_one_replica_is_seen_and_joined_in_the_other(
    make_runs: Callable[..., DigestRuns],
) -> None:
    job_a, job_b = FakeJob("a", gated=True), FakeJob("b")
    a, b = make_runs(job_a, 0), make_runs(job_b, 1)
    assert a.status(DAY) is None and b.status(DAY) is None
    first = a.start(DAY, send=True, force=False)
    assert first["status"] in ("queued", "running") and first["deliver"] is True
    assert job_a.started.wait(60)
    shown = b.status(DAY)
    assert shown is not None and shown["status"] == "running"
    assert shown["queued_at"] == first["queued_at"] and shown["started_at"]
    joined = b.start(DAY, send=True, force=False)  # the run going on in a: not a second one
    assert joined == shown
    with pytest.raises(DigestRunInProgress) as refused:  # force cannot join a running run
        b.start(DAY, send=True, force=True)
    assert refused.value.status == 409 and refused.value.code == "digest_run_in_progress"
    assert "Retry when it has ended" in refused.value.message
    job_a.release.set()
    done = finished(b)
    assert done["status"] == "done" and done["error"] is None, done
    assert done["delivery"] == {"status": "delivered", "detail": "by a"}
    assert done["finished_at"] >= done["started_at"] >= done["queued_at"]
    assert a.status(DAY) == done
    assert job_a.calls == [(DAY, True, False)] and job_b.calls == []
    # A run that ended is not joined: the next start is a new run (here: forced, in b).
    again = b.start(DAY, send=True, force=True)
    assert again["force"] is True and again["queued_at"] > done["queued_at"]
    ended = finished(a)
    assert ended["status"] == "done" and ended["delivery"]["detail"] == "by b", ended
    assert job_b.calls == [(DAY, True, True)]


def test_starts_at_once_in_two_replicas_make_one_run(
    make_runs: Callable[..., DigestRuns],
) -> None:
    jobs = [FakeJob("a", gated=True), FakeJob("b", gated=True)]
    replicas = [make_runs(jobs[0], 0), make_runs(jobs[1], 1)]
    gate = threading.Barrier(8, timeout=30)

    def start(n: int) -> dict[str, Any]:
        gate.wait()
        return replicas[n % 2].start(DAY, send=False, force=False)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(start, range(8)))
    assert len({answer["queued_at"] for answer in answers}) == 1  # one run, every answer
    wait_for(lambda: any(job.started.is_set() for job in jobs), "the run to start")
    for job in jobs:
        job.release.set()
    assert finished(replicas[0])["status"] == "done"
    assert sorted(len(job.calls) for job in jobs) == [0, 1]


def test_a_queued_run_takes_on_a_later_force_from_another_replica(
    make_runs: Callable[..., DigestRuns],
) -> None:
    job_a = FakeJob("a", gated=True)
    a, b = make_runs(job_a, 0), make_runs(FakeJob("b"), 1)
    a.start(OTHER_DAY, send=False, force=False)  # a's worker is busy with another day
    assert job_a.started.wait(60)
    queued = a.start(DAY, send=False, force=False)
    assert queued["status"] == "queued" and (queued["deliver"], queued["force"]) == (False,
                                                                                     False)
    forced = b.start(DAY, send=True, force=True)  # honest: the queued run is now forced
    assert forced["status"] == "queued" and forced["queued_at"] == queued["queued_at"]
    assert (forced["deliver"], forced["force"]) == (True, True)
    job_a.release.set()
    assert finished(b)["delivery"]["status"] == "delivered"
    assert job_a.calls == [(OTHER_DAY, False, False), (DAY, True, True)]


def test_a_dead_owners_run_is_shown_lost_and_taken_over(
    make_runs: Callable[..., DigestRuns], two_databases: tuple[Database, Database],
) -> None:
    # A run "running" in a process that died: its lease (if it ever had one) is not renewed.
    with two_databases[0].write("test") as conn:
        conn.execute(insert(digest_runs).values(
            name="daily", day=DAY.isoformat(), status="running", deliver=1, force=0,
            owner="gone-host:4242:deadbeef", queued_at=datetime.now(UTC) - timedelta(hours=1),
            started_at=datetime.now(UTC) - timedelta(hours=1)))
        conn.execute(insert(leases).values(name="digest-run:daily:2026-03-14",
                                           owner="gone-host:4242:deadbeef",
                                           expires_at=time.time() - 5))
    job_b = FakeJob("b")
    b = make_runs(job_b, 1, lease_s=30)
    lost = b.status(DAY)
    assert lost is not None and lost["status"] == "failed"
    assert lost["error"]["code"] == "run_lost" and "gone-host:4242" in lost["error"]["message"]
    taken = b.start(DAY, send=True, force=False)
    assert taken["status"] in ("queued", "running", "done")
    done = finished(b)
    assert done["status"] == "done" and done["delivery"]["detail"] == "by b"
    assert job_b.calls == [(DAY, True, False)]
    with two_databases[0].read("test") as conn:  # the lease went with the run
        assert conn.execute(select(leases.c.name).where(
            leases.c.name == "digest-run:daily:2026-03-14")).first() is None


def test_a_stalled_owner_is_taken_over_and_its_late_outcome_is_not_recorded(
    make_runs: Callable[..., DigestRuns],
) -> None:
    job_a, job_b = FakeJob("a", gated=True), FakeJob("b")
    a = make_runs(job_a, 0, lease_s=1.5)
    b = make_runs(job_b, 1, lease_s=1.5)
    a.start(DAY, send=True, force=False)
    assert job_a.started.wait(60)
    time.sleep(1.8)  # renewed meanwhile: still a's
    assert b.status(DAY)["status"] == "running"  # type: ignore[index]
    # a stalls (as a process stopped by SIGSTOP would): its lease is no longer renewed.
    for _day, renewal in list(a._pending.values()):
        renewal.close()
    lost = wait_for(lambda: (lambda s: s if s["status"] == "failed" else None)(b.status(DAY)),
                    "the stalled run to show as lost")
    assert lost["error"]["code"] == "run_lost"
    taken = b.start(DAY, send=True, force=True)
    assert taken["force"] is True
    done = finished(b)
    assert done["delivery"]["detail"] == "by b"
    job_a.release.set()  # a comes back and finishes: the day is no longer its own
    wait_for(lambda: not a._pending, "a's run to end")
    assert a.status(DAY) == done


def test_closing_drops_queued_runs_as_failed(make_runs: Callable[..., DigestRuns]) -> None:
    job_a = FakeJob("a", gated=True)
    a, b = make_runs(job_a, 0), make_runs(FakeJob("b"), 1)
    a.start(OTHER_DAY, send=False, force=False)
    assert job_a.started.wait(60)
    assert a.start(DAY, send=False, force=False)["status"] == "queued"
    closing = threading.Thread(target=a.close)
    closing.start()  # the queued run is dropped at once, the running one finishes
    pool = a._pool
    wait_for(lambda: pool._shutdown, "the worker to shut down")  # type: ignore[attr-defined]
    with pool._shutdown_lock:  # type: ignore[attr-defined]  # its queue is drained by now
        pass
    job_a.release.set()
    closing.join(60)
    shown = b.status(DAY)
    assert shown is not None and shown["status"] == "failed"
    assert shown["error"]["code"] == "run_cancelled" and shown["started_at"] is None
    assert b.status(OTHER_DAY)["status"] == "done"  # type: ignore[index]
    assert job_a.calls == [(OTHER_DAY, False, False)]
    assert b.start(DAY, send=False, force=False)["status"] in ("queued", "running", "done")


# -- two apps on one database ----------------------------------------------------------------


def test_two_apps_on_one_database_show_one_run(
    make_client: Callable[..., TestClient], database_url: str,
) -> None:
    a = make_client(timezone="Europe/Oslo", database_url=database_url)
    b = make_client(timezone="Europe/Oslo", database_url=database_url)
    assert a.post("/v1/briefings", json={"text": FERRY_A}).status_code == 200
    job = a.app.state.daily.job  # type: ignore[attr-defined]
    release, building = threading.Event(), threading.Event()
    build = job.build

    def slow_build(day: Any) -> dict[str, Any]:
        building.set()
        assert release.wait(60)
        return build(day)

    job.build = slow_build
    path = f"/v1/digests/{datetime.now(UTC).date() - timedelta(days=1)}"
    try:
        first = a.post(path, params={"deliver": "false"})
        assert first.status_code == 202
        assert building.wait(60)
        shown = b.get(path)
        assert shown.status_code == 200 and shown.json()["run"]["status"] == "running"
        assert shown.json()["run"]["queued_at"] == first.json()["run"]["queued_at"]
        joined = b.post(path, params={"deliver": "false"})
        assert joined.status_code == 202 and joined.json()["run"] == shown.json()["run"]
        refused = b.post(path, params={"force": "true"})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "digest_run_in_progress"
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        release.set()
    deadline = time.monotonic() + 60
    while (done := b.get(path).json())["run"]["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert done["run"]["status"] == "done"
    assert done["run"]["delivery"] == {"status": "not_configured"}
    assert done["digest"] is not None and a.get(path).json() == done


def test_an_app_takes_over_the_run_of_a_dead_replica(
    make_client: Callable[..., TestClient], database_url: str,
) -> None:
    day = datetime.now(UTC).date() - timedelta(days=1)
    b = make_client(database_url=database_url)
    database = b.app.state.daily.ledger.database  # type: ignore[attr-defined]
    with database.write("test") as conn:  # the replica that queued it was killed
        conn.execute(insert(digest_runs).values(
            name="daily", day=day.isoformat(), status="queued", deliver=1, force=0,
            owner="killed-host:1:0000", queued_at=datetime.now(UTC) - timedelta(minutes=5)))
    lost = b.get(f"/v1/digests/{day}")
    assert lost.status_code == 200 and lost.json()["run"]["status"] == "failed"
    assert lost.json()["run"]["error"]["code"] == "run_lost"
    state = run_digest(b, f"/v1/digests/{day}")
    assert state["run"]["status"] == "done"
    assert state["run"]["delivery"] == {"status": "not_configured"}
