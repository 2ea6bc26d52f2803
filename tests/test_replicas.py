"""Two `briefing serve` replicas on one PostgreSQL and one Redis, as docker-compose runs them.

- the same article POSTed to both at once is generated once (exactly one `cached: false`);
- what one replica wrote, the other reads;
- one digest delivery from the scheduler, API and CLI runs of both replicas together
  (a loopback HTTP server stands in for Slack);
- a replica killed with -9 loses no article it acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from service.digest.scheduler import last_fire
from service.storage.articles import Article
from service.storage.schema import articles, deliveries
from tests.digest_support import BATTERY, FERRY_A, FERRY_B, LIBRARY, fake_slack, run_digest
from tests.storage_support import OwnStore, open_database
from tests.test_briefing import story

CRON = "0 0 * * *"  # midnight UTC: at any start, the run for yesterday is "missed"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"replica-{self.port}.log"
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port),
                 "--log-level", "warning"],
                env={**os.environ, **env, "BRIEFING_DATA_DIR": str(data_dir)},
                stdout=subprocess.DEVNULL, stderr=log,
            )
        self.http = httpx.Client(base_url=self.base, timeout=60)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 180  # a hang guard: two model-free starts under load
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"replica exited: {self.log.read_text()[-2000:]}")
            try:
                if self.http.get("/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"replica not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def shared_env(postgres_url: str, redis_url_and_prefix: tuple[str, str]) -> dict[str, str]:
    redis_url, prefix = redis_url_and_prefix
    return {
        "BRIEFING_DATABASE_URL": postgres_url, "BRIEFING_REDIS_URL": redis_url,
        "BRIEFING_REDIS_PREFIX": prefix, "BRIEFING_ENGINE": "extractive",
        "BRIEFING_DAILY_CRON": "", "BRIEFING_TIMEZONE": "UTC",
    }


def _replicas(env: dict[str, str], tmp_path: Path) -> Iterator[list[Replica]]:
    # Each replica has a data dir of its own: all they share is PostgreSQL and Redis.
    started = [Replica(env, tmp_path / name) for name in ("a", "b")]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture
def replicas(shared_env: dict[str, str], tmp_path: Path) -> Iterator[list[Replica]]:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    yield from _replicas(shared_env, tmp_path)


def test_same_article_to_both_at_once_is_generated_once_and_shared(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    for n in range(6):
        body = {"text": story(100 + n, paragraphs=12), "title": f"Story {n}"}
        start = threading.Barrier(2, timeout=30)

        def post(replica: Replica, body: dict[str, str] = body,
                 start: threading.Barrier = start) -> httpx.Response:
            start.wait()
            return replica.http.post("/v1/briefings", json=body)

        with ThreadPoolExecutor(2) as pool:
            answers = [f.result() for f in [pool.submit(post, a), pool.submit(post, b)]]
        assert [r.status_code for r in answers] == [200, 200]
        bodies = [r.json() for r in answers]
        assert sorted(x["cached"] for x in bodies) == [False, True], n
        assert bodies[0]["id"] == bodies[1]["id"] and bodies[0]["short"] == bodies[1]["short"]
    # What one replica wrote, the other reads.
    written = a.http.post("/v1/briefings", json={"text": story(200)}).json()
    assert written["cached"] is False
    read = b.http.get(f"/v1/briefings/{written['id']}")
    assert read.status_code == 200 and read.json()["short"] == written["short"]
    again = b.http.post("/v1/briefings", json={"text": story(200)}).json()
    assert again["cached"] is True and again["id"] == written["id"]


def test_one_delivery_from_the_schedulers_api_and_cli_of_both(
    shared_env: dict[str, str], postgres_url: str, tmp_path: Path,
) -> None:
    fire = last_fire(CronTrigger.from_crontab(CRON, timezone=UTC), datetime.now(UTC))
    assert fire is not None
    day = fire.date() - timedelta(days=1)
    noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    store = OwnStore(postgres_url)
    for n, (text, title) in enumerate(((FERRY_A, "Storm halts Havnes ferries"),
                                       (FERRY_B, "Commuters stranded"),
                                       (LIBRARY, "Council approves library budget"),
                                       (BATTERY, "Battery factory for Moss"))):
        store.add(Article(text, title=title), received_at=noon + timedelta(minutes=n))
    store.close()
    with fake_slack() as (url, rec):
        rec.delay_s = 0.05  # each message takes a while: the runs overlap
        env = {**shared_env, "BRIEFING_DAILY_CRON": CRON, "BRIEFING_SLACK_WEBHOOK_URL": url,
               "BRIEFING_SLACK_ALLOWED_HOSTS": "127.0.0.1",
               "BRIEFING_SLACK_MESSAGE_INTERVAL_S": "0"}
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        # Both replicas start with the run "missed": each scheduler catches it up at once,
        # while both APIs and a CLI run are asked to deliver the same day.
        running = _replicas(env, tmp_path)
        started = next(running)
        try:
            with ThreadPoolExecutor(3) as pool:
                api = [pool.submit(run_digest, r.http, f"/v1/digests/{day}") for r in started]
                cli = pool.submit(
                    subprocess.run,
                    [sys.executable, "-m", "service.cli", "daily", "--date", day.isoformat()],
                    env={**os.environ, **env, "BRIEFING_DATA_DIR": str(tmp_path)},
                    capture_output=True, text=True, timeout=300,
                )
                runs = [f.result() for f in api]
                done = cli.result()
        finally:
            running.close()  # stops both (their schedulers' runs finish first)
        assert done.returncode == 0, done.stderr
        assert url not in done.stdout + done.stderr
        statuses = [r["delivery"]["status"] for r in runs]
        assert statuses == ["delivered", "delivered"]  # the one ledger, seen by both
    database = open_database(postgres_url)
    try:
        with database.engine.connect() as conn:
            (row,) = conn.execute(select(deliveries.c.status, deliveries.c.total,
                                         deliveries.c.sent)).all()
    finally:
        database.close()
    assert row.status == "delivered"
    assert len(rec.requests) == row.total == row.sent  # every message once, none twice
    texts = [json.dumps(p, sort_keys=True) for p in rec.posted]
    assert len(texts) == len(set(texts))


def test_a_replica_killed_with_9_loses_nothing_it_acknowledged(
    replicas: list[Replica], postgres_url: str,
) -> None:
    a, b = replicas
    texts = [story(300 + n) for n in range(40)]
    acknowledged: list[str] = []
    lock = threading.Lock()

    def post(text: str) -> None:
        try:
            answer = a.http.post("/v1/briefings", json={"text": text}, timeout=30)
        except httpx.HTTPError:
            return  # cut off by the kill: never acknowledged
        if answer.status_code == 200:
            with lock:
                acknowledged.append(text)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, text) for text in texts]
        deadline = time.monotonic() + 120  # a hang guard: the posts must succeed at all
        while len(acknowledged) < 5:
            assert time.monotonic() < deadline, a.log.read_text()[-2000:]
            time.sleep(0.01)
        a.process.send_signal(signal.SIGKILL)
        for future in futures:
            future.result()
    a.process.wait(10)
    assert 5 <= len(acknowledged) < len(texts)
    database = open_database(postgres_url)
    try:
        with database.engine.connect() as conn:
            stored = set(conn.execute(select(articles.c.text)).scalars())
    finally:
        database.close()
    assert set(acknowledged) <= stored
    # The survivor serves on, and reads what the killed replica wrote.
    assert b.http.post("/v1/briefings", json={"text": acknowledged[0]}).json()["cached"] is True
