"""Starting is visible: the port answers at once while the model loads in the background.

A real uvicorn server on a loopback port serves the app as ``briefing serve`` makes it
(``open_in_background``); the production model loader is held by the test (an Event it
releases), so "before the load finishes" is a fact of the test, not a race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from service.api import startup as startup_module
from service.api.models import Ready
from service.app import create_app
from service.config import Settings
from service.engines import seq2seq
from service.wiring import Wiring
from tests.test_briefing import story
from tests.test_models import undeclared
from tests.web_support import free_port

KEY = {"Authorization": "Bearer test-key"}


class Gate:
    """Holds the model load until released; ``error`` makes the released load fail."""

    def __init__(self) -> None:
        self.loading = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    real_load = seq2seq._load

    def held_load(source: str, revision: str, settings: Settings) -> Any:
        held.loading.set()
        if not held.release.wait(60):
            raise TimeoutError("the test never released the model load")
        if held.error is not None:
            raise held.error
        return real_load(source, revision, settings)

    monkeypatch.setattr(seq2seq, "_load", held_load)
    yield held
    held.release.set()  # never leave a loader thread waiting


@contextmanager
def serving(app: FastAPI) -> Iterator[tuple[str, uvicorn.Server, threading.Thread]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    give_up = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < give_up, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}", server, thread
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _wait_for(check: Callable[[], bool], what: str, within_s: float = 60) -> None:
    give_up = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.05)


def _ready(base: str) -> bool:
    return httpx.get(f"{base}/readyz", timeout=5).status_code == 200


def test_the_port_answers_while_the_model_loads(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, gate: Gate
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir), api_keys="test-key")
    app = create_app(settings, open_in_background=True)
    with serving(app) as (base, _, _):
        assert gate.loading.wait(30), "the model load did not begin"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}

        probe = httpx.get(f"{base}/readyz")
        assert probe.status_code == 503
        body = probe.json()
        assert body["status"] == "starting"
        assert body["stage"].startswith(f"loading the model {str(tiny_model_dir)!r}")
        assert isinstance(body["elapsed_s"], float)
        assert undeclared(body, Ready) == []

        # The key is still checked; a caller with the key is told to come back.
        assert httpx.post(f"{base}/v1/briefings", json={"text": story(1)}).status_code == 401
        for method, path in (("POST", "/v1/briefings"), ("GET", "/v1/feeds"),
                             ("GET", "/v1/digests/2026-01-01"), ("GET", "/v1/articles")):
            answer = httpx.request(method, f"{base}{path}", headers=KEY,
                                   json={"text": story(1)} if method == "POST" else None)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["retry-after"] == str(startup_module.RETRY_AFTER_S)
            error = answer.json()["error"]
            assert error["code"] == "starting", path
            assert "loading the model" in error["message"] and "Retry in" in error["message"]
        page = httpx.get(f"{base}/articles", headers=KEY)
        assert page.status_code == 503 and page.headers["retry-after"]
        assert "text/html" in page.headers["content-type"] and "<code>starting</code>" in page.text
        assert httpx.get(f"{base}/").status_code == 200  # the form needs no service

        assert not _ready(base)  # still held: nothing above could have let it finish
        gate.release.set()
        _wait_for(lambda: _ready(base), "/readyz 200 after the load was released")
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["status"] == "ready" and ready["engine"] == "seq2seq"
        assert ready["model"] and "stage" not in ready
        answer = httpx.post(f"{base}/v1/briefings", json={"text": story(1)}, headers=KEY,
                            timeout=120)
        assert answer.status_code == 200, answer.text
        assert answer.json()["engine"] == "seq2seq" and answer.json()["long"]


def test_a_failed_start_is_told_on_readyz_and_to_the_server(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, gate: Gate
) -> None:
    told: list[str] = []
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir))
    app = create_app(settings, open_in_background=True, on_start_failed=told.append)
    with serving(app) as (base, _, _):
        assert gate.loading.wait(30)
        gate.error = OSError("the weights are unreadable")
        gate.release.set()
        _wait_for(lambda: bool(told), "the start to fail")
        probe = httpx.get(f"{base}/readyz")
        assert probe.status_code == 503
        body = probe.json()
        assert body["status"] == "failed" and "the weights are unreadable" in body["error"]
        assert body["stage"].startswith("loading the model") and undeclared(body, Ready) == []
        assert "the weights are unreadable" in told[0]
        answer = httpx.post(f"{base}/v1/briefings", json={"text": story(1)})
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "service_unavailable"
        assert "did not start" in answer.json()["error"]["message"]


def test_serve_exits_non_zero_when_the_model_cannot_load(tmp_path: Path) -> None:
    """As before the start moved to the background: uvicorn's startup failure status (3) and
    the reason, not a server that keeps answering 503."""
    process = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(free_port())],
        env={**os.environ, "BRIEFING_DATA_DIR": str(tmp_path), "BRIEFING_ENGINE": "seq2seq",
             "BRIEFING_MODEL": str(tmp_path / "no-such-model"), "BRIEFING_DAILY_CRON": ""},
        capture_output=True, text=True, timeout=120,
    )
    assert process.returncode == 3, process.stderr
    assert "briefing: error: the service did not start" in process.stderr
    assert "no-such-model" in process.stderr.splitlines()[-1]


def test_stopping_during_the_start_neither_hangs_nor_leaks(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, gate: Gate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stop while the model loads waits for the load a bounded time (STOP_WAIT_S), then
    lets the server end; the start, when its load ends, closes what it opened and
    publishes nothing."""
    monkeypatch.setattr(startup_module, "STOP_WAIT_S", 0.5)
    closed: list[Wiring] = []
    real_close = Wiring.close

    def close(self: Wiring) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Wiring, "close", close)
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir))
    app = create_app(settings, open_in_background=True)
    with serving(app) as (base, server, thread):
        assert gate.loading.wait(30)
        assert httpx.get(f"{base}/readyz").json()["status"] == "starting"
        startup = app.state.startup
        began = time.monotonic()
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server hung on a stop during the start"
        assert time.monotonic() - began < 15
    assert startup.status == "stopping" and not startup.wait(0)  # the load is still held
    gate.release.set()
    assert startup.wait(60), "the start did not end after its load did"
    assert len(closed) == 1  # the service it opened, closed by the start itself
    assert app.state.service is None and app.state.daily is None and app.state.ingest is None
    assert startup.opened.service is None
    assert not [t for t in threading.enumerate() if t.name in ("retention", "feed-poller")]


_FIRST_REQUEST = """
import json, sys, tempfile
from pathlib import Path
from fastapi.testclient import TestClient
from service.app import create_app
from service.config import Settings
from service.preprocess import language

text = Path(sys.argv[1]).read_text(encoding="utf-8")
settings = Settings(data_dir=Path(tempfile.mkdtemp()), engine="extractive", daily_cron="")
with TestClient(create_app(settings)) as client:
    assert client.get("/readyz").status_code == 200
    identifier_loaded = language._identifier.cache_info().currsize == 1
    before = set(sys.modules)
    answer = client.post("/v1/briefings", json={"text": text})
    assert answer.status_code == 200, answer.text
    print(json.dumps({"loaded": identifier_loaded,
                      "imported": sorted(set(sys.modules) - before)}))
"""


def test_the_first_request_after_ready_loads_nothing_new() -> None:
    """A fresh process: what the request path loads on first use (language identification
    and its model, splitter rules, check patterns) loads before /readyz says ready, so the
    first request imports no module the start did not (the cost ratio is bench/latency.py's
    to measure, not a test's)."""
    seed = Path(__file__).resolve().parent / "seed_article.txt"
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUEST, str(seed)], capture_output=True, text=True,
        timeout=120, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")},
             "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["loaded"] is True
    assert found["imported"] == []
