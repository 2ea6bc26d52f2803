"""The `briefing` command, run as a real subprocess where start-up behaviour matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from service.cli import main
from tests.conftest import SEED_ARTICLE

SEED_PATH = Path(__file__).resolve().parent / "seed_article.txt"


def test_summarize_json_with_the_tiny_model(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("BRIEFING_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BRIEFING_ENGINE", "seq2seq")
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path))
    from service.config import get_settings

    get_settings.cache_clear()
    try:
        assert main(["summarize", str(SEED_PATH), "--json"]) == 0
    finally:
        get_settings.cache_clear()
    result = json.loads(capsys.readouterr().out)
    assert result["engine"] == "seq2seq" and result["short"] and result["long"]
    assert result["input"]["duplicates_removed"] == 10


def test_preprocess_prints_what_the_model_sees(capsys) -> None:
    assert main(["preprocess", str(SEED_PATH)]) == 0
    text = capsys.readouterr().out
    assert text.count("NATO allies need to sign more contracts") == 1
    assert "NATO's secretary general has urged allies" not in text  # the headline
    assert "\xa0" not in text


def test_summarize_reads_stdin_and_reports_empty_text(tmp_path: Path) -> None:
    env = {**os.environ, "BRIEFING_ENGINE": "extractive", "BRIEFING_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "summarize", "-"], input="  \n\n ",
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2
    assert "empty" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "summarize", "-"], input=SEED_ARTICLE,
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SHORT: ") and "Stoltenberg" in done.stdout


def test_model_pull_fails_fast_without_a_hub(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BRIEFING_DATA_DIR": str(tmp_path),
        # A closed loopback port stands in for a hub that cannot be reached.
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_HUB_OFFLINE": "0",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "model", "pull", "google/flan-t5-small"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2
    assert "cannot be reached" in done.stderr
    assert time.monotonic() - started < 60


def test_version_and_help_for_every_option(capsys) -> None:
    import argparse

    import pytest

    import service
    from service.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"briefing {service.__version__}"

    def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    found += parsers(sub)
        return found

    for parser in parsers(build_parser()):
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, (parser.prog, action.dest)
