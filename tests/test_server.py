"""The real server process: SIGTERM drains in-flight work; kill -9 loses nothing acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.storage_support import OwnStore
from tests.test_briefing import story


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env={**os.environ, "BRIEFING_DATA_DIR": str(data_dir), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail("server did not become ready")


def _count(data_dir: Path) -> int:
    store = OwnStore(data_dir / "briefing.sqlite3")
    try:
        return store.count()
    finally:
        store.close()


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    process, base = _serve(tmp_path, BRIEFING_ENGINE="extractive")
    try:
        for n in range(5):
            response = httpx.post(f"{base}/v1/briefings", json={"text": story(n)}, timeout=30)
            assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert _count(tmp_path) == 5


def test_sigterm_drains_the_request_in_flight(tmp_path: Path, tiny_model_dir: Path) -> None:
    process, base = _serve(
        tmp_path, BRIEFING_ENGINE="seq2seq", BRIEFING_MODEL=str(tiny_model_dir),
        BRIEFING_MAX_INPUT_TOKENS="128",
    )
    result: dict[str, httpx.Response] = {}
    text = "\n\n".join(story(n) for n in range(40))

    def post() -> None:
        result["response"] = httpx.post(f"{base}/v1/briefings", json={"text": text}, timeout=120)

    worker = threading.Thread(target=post)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while _count(tmp_path) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the article is stored: the request is in flight
        process.send_signal(signal.SIGTERM)
        worker.join(timeout=120)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    assert result["response"].status_code == 200
    assert result["response"].json()["long"]
