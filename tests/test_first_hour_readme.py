"""The README's first section, run as written from the repository root: its `make` targets
exist, and its curl commands, run by the real `curl` against a live `briefing serve` on a
loopback port, answer what the README shows. The commands are read from README.md, so this
breaks when the README drifts from what works."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.test_server import _serve

ROOT = Path(__file__).resolve().parents[1]


def first_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## ", 1)[0]


def blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def commands(section: str, program: str) -> list[str]:
    """The shell commands of the section's ```sh blocks that run ``program`` (continuation
    lines joined, comments cut)."""
    found = []
    for block in blocks(section, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #", 1)[0].strip()
            if command.split(" ", 1)[0] == program:
                found.append(command)
    return found


def test_the_first_section_has_what_this_test_runs() -> None:
    section = first_section()
    assert commands(section, "make") == ["make run", "make test"]
    assert len(commands(section, "curl")) >= 2
    assert len(blocks(section, "json")) == 1
    for command in commands(section, "curl"):
        args = shlex.split(command)
        # Errors are shown: no bare -s, the error body printed, a non-zero exit.
        assert "-sS" in args and "--fail-with-body" in args, command
        for arg in args:
            if arg.startswith("@"):  # a file the command reads, from the repository root
                assert (ROOT / arg[1:]).is_file(), arg


def test_the_make_targets_exist() -> None:
    if shutil.which("make") is None:
        pytest.skip("no make on this machine")
    for command in commands(first_section(), "make"):
        done = subprocess.run([*shlex.split(command), "-n"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)


def test_the_curl_examples_answer_as_the_readme_shows(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    section = first_section()
    shown = json.loads(blocks(section, "json")[0])
    # The README's setting: the default engine and model, no weights in the data dir.
    process, base = _serve(tmp_path)
    try:
        answers = []
        for command in commands(section, "curl"):
            args = shlex.split(command.replace("localhost:8000", base.removeprefix("http://")))
            done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            answers.append(json.loads(done.stdout))
        again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert json.loads(again.stdout)["cached"] is True  # "The same POST again …"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    seed = answers[0]
    assert set(seed) == set(shown)
    assert set(seed["input"]) == set(shown["input"])
    for field in ("short", "engine", "model", "cached"):
        assert seed[field] == shown[field], field
    for field in ("chars", "duplicates_removed", "paragraphs_in", "paragraphs_out",
                  "boilerplate_removed", "sentences"):
        assert seed["input"][field] == shown["input"][field], field
    reason = shown["fallback_reason"].split(" nor in ")[0]
    assert seed["fallback_reason"].startswith(reason)
    for answer in answers[1:]:
        assert answer["short"] and answer["long"]
