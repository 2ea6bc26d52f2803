"""The real server process: SIGTERM drains in-flight work; kill -9 loses nothing acknowledged."""

from __future__ import annotations

import json
import os
import re
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
    # A hang guard, not a speed check: a first start converts the model to CTranslate2,
    # which takes a minute on a busy machine.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
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


def test_settings_from_the_environment_json_logs_and_request_ids(tmp_path: Path) -> None:
    """Port, log format and an API key file from the environment; a typo named at start;
    each request's id answered and on every line logged while serving it."""
    port = _free_port()
    keys = tmp_path / "api-keys"
    keys.write_text("first-key\nsecond-key\n")
    log_path = tmp_path / "server.log"
    env = {**os.environ, "BRIEFING_DATA_DIR": str(tmp_path / "var"), "BRIEFING_PORT": str(port),
           "BRIEFING_ENGINE": "extractive", "BRIEFING_LOG_FORMAT": "json",
           "BRIEFING_DAILY_CRON": "", "BRIEFING_API_KEYS_FILE": str(keys),
           "BRIEFING_SLAK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/typo"}
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            auth = {"Authorization": "Bearer second-key"}
            assert httpx.get(f"{base}/v1/digests/2026-01-01").status_code == 401
            posted = httpx.post(f"{base}/v1/digests/2026-01-01?deliver=false",
                                headers={**auth, "X-Request-ID": "req-42"})
            assert posted.status_code == 202 and posted.headers["x-request-id"] == "req-42"
            while httpx.get(f"{base}/v1/digests/2026-01-01",
                            headers=auth).json()["run"]["status"] != "done":
                assert time.monotonic() < deadline + 60
                time.sleep(0.1)
            made = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "bad id; forged=1"})
            assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("BRIEFING_SLAK_WEBHOOK_URL is not a setting" in line["message"]
               and "BRIEFING_SLACK_WEBHOOK_URL" in line["message"] for line in lines)
    tagged = [line for line in lines if line.get("request_id") == "req-42"]
    assert {line["logger"] for line in tagged} >= {"service.access", "service.digest.build"}
    assert "typo" not in log_path.read_text()  # the mistyped webhook URL is not shown
