"""The files a user builds from: Dockerfile lint-clean, Makefile pins torch first."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_is_hadolint_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed: `make test` installs it with the test extras")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_makefile_installs_pinned_torch_before_the_project() -> None:
    makefile = (ROOT / "Makefile").read_text()
    torch_at = makefile.index("torch==$(TORCH_VERSION)")
    project_at = makefile.index("-e '.[test]'")
    assert torch_at < project_at
    assert "TORCH_VERSION := 2.13.0" in makefile
