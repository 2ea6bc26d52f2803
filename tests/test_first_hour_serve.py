"""`briefing serve`'s first hour (issue 27): a port in use stops it before anything starts,
and a start that fails says why in one paragraph, with a traceback only at debug level."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from service.api import startup as startup_module
from service.api.startup import Startup
from service.config import Settings
from service.metrics import Metrics
from tests.web_support import free_port


def _serve(tmp_path: Path, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env={**os.environ, "BRIEFING_DATA_DIR": str(tmp_path / "var"),
             "BRIEFING_DAILY_CRON": "", **env},
        capture_output=True, text=True, timeout=180,
    )


def test_serve_on_a_busy_port_starts_nothing_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _serve(tmp_path, port, BRIEFING_ENGINE="extractive")
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"briefing: error: cannot listen on 127.0.0.1:{port}: the port is in use (another "
        "`briefing serve`, or another program): stop it, or pick another port with --port "
        "or BRIEFING_PORT. Nothing was started."]
    assert not (tmp_path / "var" / "briefing.sqlite3").exists()  # no migration ran


def test_serve_without_a_loadable_model_says_why_in_one_paragraph(tmp_path: Path) -> None:
    # A model directory without weights or tokenizer: the tokenizer's error runs to six lines.
    model = tmp_path / "empty-model"
    model.mkdir()
    done = _serve(tmp_path, free_port(), BRIEFING_ENGINE="seq2seq", BRIEFING_RUNTIME="torch",
                  BRIEFING_MODEL=str(model))
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"briefing: error: the service did not start: could not load "
                           f"model '{model}'")
    # The whole reason on that one line (and the log's): nothing spills onto lines of its
    # own; every other line is a log line, which starts with its time.
    lines = done.stderr.strip().splitlines()
    assert all(line == last or not line or line[0].isdigit() for line in lines), lines


def test_a_start_that_fails_on_a_bug_logs_its_traceback_only_for_debug(
    make_settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(settings: Settings, metrics: Metrics) -> None:
        raise RuntimeError("first line\n  second line")

    monkeypatch.setattr(startup_module.Wiring, "open", broken)
    settings = make_settings()
    for level, traced in ((logging.INFO, False), (logging.DEBUG, True)):
        caplog.clear()
        caplog.set_level(level, logger="service.api.startup")
        told: list[str] = []
        start = Startup(settings, Metrics(), on_failed=told.append)
        start.run(lambda opened: None)
        (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert (record.exc_info is not None) is traced
        assert "\n" not in told[0] and "first line second line" in told[0]
        assert start.describe()["error"] == told[0]
        if not traced:
            assert "--log-level debug" in told[0]
