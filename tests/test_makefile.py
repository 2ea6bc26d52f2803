"""`make install` (run by `make run` and `make test`): it says which step runs and shows
pip's progress without its flood, and a failed pip still fails it. Run against the real
Makefile with a stand-in for the virtualenv's python that records how it is called."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What pip prints for an install where most is there already and one package is new.
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls.log"
case "$*" in
  -c*) exit "${TORCH_THERE:-1}" ;;
  *"-e .[test]"*)
    echo "Obtaining file:///src"
    for n in 1 2 3 4 5 6 7 8 9; do
      echo "Requirement already satisfied: package$n>=1 in ./.venv/lib (from briefing) (1.$n)"
    done
    echo "Collecting newthing>=2 (from briefing-service==0.1)"
    echo "  Downloading newthing-2.0-py3-none-any.whl (120 kB)"
    echo "Installing collected packages: newthing, briefing-service"
    echo "ERROR: something broke" >&2
    [ -n "$FAIL" ] && exit 1
    echo "Successfully installed briefing-service-0.1 newthing-2.0"
    ;;
  *torch==*) echo "Collecting torch==2.13.0"; echo "  Downloading torch-2.13.0.whl (190 MB)" ;;
esac
exit 0
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    if not shutil.which("make") or not Path("/bin/bash").exists():
        pytest.skip("needs make and /bin/bash")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def make_install(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(checkout), "install"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_install_says_each_step_and_shows_downloads_not_the_already_satisfied_flood(
    checkout: Path,
) -> None:
    done = make_install(checkout)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    steps = [line for line in out.splitlines() if line.startswith("==> ")]
    assert [s[:9] for s in steps] == ["==> [1/4]", "==> [2/4]", "==> [3/4]", "==> [4/4]",
                                      "==> insta"]
    assert "installing torch 2.13.0" in steps[2]
    assert "Downloading torch-2.13.0.whl (190 MB)" in out  # torch's step unfiltered
    assert "Downloading newthing-2.0" in out and "Successfully installed" in out
    assert "Requirement already satisfied" not in out  # one line per package, every time
    assert "ERROR: something broke" in done.stderr  # pip's warnings and errors all show
    calls = (checkout / ".venv" / "bin" / "calls.log").read_text().splitlines()
    assert any("--quiet --upgrade pip" in c for c in calls)
    assert (checkout / ".venv" / ".installed").exists()


def test_install_skips_torch_when_the_pinned_version_is_there(checkout: Path) -> None:
    done = make_install(checkout, TORCH_THERE="0")
    assert done.returncode == 0, done.stderr
    assert "==> [3/4] torch 2.13.0 is installed" in done.stdout
    calls = (checkout / ".venv" / "bin" / "calls.log").read_text()
    assert "torch==" not in calls


def test_a_failed_pip_fails_the_install_through_the_filter(checkout: Path) -> None:
    done = make_install(checkout, FAIL="1")
    assert done.returncode != 0
    assert not (checkout / ".venv" / ".installed").exists()
