"""Backpressure, single flight, deadlines and faults: coded answers, and nothing lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

import service.wiring
from service.engines import EngineChoice, GenerationRequest
from service.engines.extractive import ExtractiveEngine
from tests.storage_support import OwnStore


class GatedEngine(ExtractiveEngine):
    """Extractive output, but each generate() waits for the gate: work we can hold in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.calls = 0
        self.fail_with: BaseException | None = None

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        self.calls += 1
        self.entered.release()
        if not self.gate.wait(timeout=10):
            raise AssertionError("gate never opened")
        if self.fail_with is not None:
            raise self.fail_with
        return super().generate(requests)


@pytest.fixture
def engine(monkeypatch) -> GatedEngine:
    gated = GatedEngine()
    monkeypatch.setattr(service.wiring, "select_engine", lambda s, p, **_: EngineChoice(gated))
    return gated



def article(n: int) -> dict[str, str]:
    return {"text": f"Story number {n} happened on Monday. Officials said {n} people came."}


def test_full_queue_answers_429_at_once(engine: GatedEngine, make_client) -> None:
    client = make_client(max_queue=1)  # one running + one waiting
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.post, "/v1/briefings", json=article(1))
        assert engine.entered.acquire(timeout=5)
        second = pool.submit(client.post, "/v1/briefings", json=article(2))
        time.sleep(0.3)  # the second is admitted and waits for the engine
        started = time.monotonic()
        third = client.post("/v1/briefings", json=article(3))
        # the engine is held: waiting for room would take until the gate opens (generous
        # bound: this checks "does not queue", not a speed)
        assert time.monotonic() - started < 10
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "overloaded"
        assert int(third.headers["retry-after"]) >= 1
        engine.gate.set()
        assert first.result().status_code == 200
        assert second.result().status_code == 200
    assert client.post("/v1/briefings", json=article(3)).status_code == 200


def test_identical_concurrent_requests_are_computed_once(
    engine: GatedEngine, make_client, make_settings
) -> None:
    client = make_client()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(client.post, "/v1/briefings", json=article(7)) for _ in range(4)]
        assert engine.entered.acquire(timeout=5)
        time.sleep(0.3)
        engine.gate.set()
        bodies = [f.result().json() for f in futures]
    assert engine.calls == 1
    assert len({(b["id"], b["short"]) for b in bodies}) == 1
    store = OwnStore(make_settings())
    try:
        assert store.count() == 4  # every accepted article is kept, computed or not
    finally:
        store.close()


def test_deadline_answers_503_and_keeps_the_article(
    engine: GatedEngine, make_client, make_settings
) -> None:
    client = make_client(request_timeout_s=0.5)
    response = client.post("/v1/briefings", json=article(9))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    engine.gate.set()
    store = OwnStore(make_settings())
    try:
        assert store.count() == 1
    finally:
        store.close()


@pytest.mark.parametrize("failure", [RuntimeError("CUDA out of memory"), MemoryError()])
def test_engine_failure_is_503_and_the_service_keeps_serving(
    engine: GatedEngine, make_client, failure: BaseException
) -> None:
    client = make_client()
    engine.gate.set()
    engine.fail_with = failure
    response = client.post("/v1/briefings", json=article(11))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "engine_error"
    engine.fail_with = None
    assert client.post("/v1/briefings", json=article(11)).status_code == 200


def _lock(path) -> sqlite3.Connection:
    """Another writer holding the file: what a stuck process or a backup tool does."""
    holder = sqlite3.connect(path, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_locked_store_is_a_clear_503_and_nothing_is_acknowledged(
    make_client, make_settings
) -> None:
    settings = make_settings(sqlite_timeout_s=0.2)
    client = make_client(sqlite_timeout_s=0.2)
    holder = _lock(settings.data_dir / "briefing.sqlite3")
    try:
        response = client.post("/v1/briefings", json=article(12))
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "storage_error" and "store" in error["message"]
    assert client.post("/v1/briefings", json=article(12)).status_code == 200


def test_a_database_locked_after_the_article_is_stored_still_answers(
    engine: GatedEngine, make_client, make_settings
) -> None:
    """Writing the cache and linking the briefing may fail: the answer is computed, the
    article is stored; only a future cache hit is lost."""
    settings = make_settings(sqlite_timeout_s=0.2)
    client = make_client(sqlite_timeout_s=0.2)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(client.post, "/v1/briefings", json=article(13))
        assert engine.entered.acquire(timeout=5)  # stored; generating
        holder = _lock(settings.data_dir / "briefing.sqlite3")
        try:
            engine.gate.set()
            response = answer.result(timeout=30)
        finally:
            holder.rollback()
            holder.close()
    assert response.status_code == 200 and response.json()["cached"] is False
    store = OwnStore(settings)
    try:
        assert store.count() == 1
    finally:
        store.close()
