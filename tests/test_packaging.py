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


def test_compose_runs_two_replicas_on_postgres_and_redis_behind_nginx() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "replica1", "replica2", "nginx", "migrate"} <= set(services)
    for name in ("replica1", "replica2"):
        env = services[name]["environment"]
        assert env["BRIEFING_DATABASE_URL"].startswith("postgresql://")
        assert env["BRIEFING_REDIS_URL"].startswith("redis://redis:")
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully")
    assert services["migrate"]["command"] == ["briefing", "db", "upgrade"]
    redis_command = services["redis"]["command"]
    assert "--maxmemory" in redis_command and "allkeys-lru" in redis_command
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server replica1:8000" in nginx and "server replica2:8000" in nginx
    mounted = services["nginx"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == (ROOT / "deploy" / "nginx.conf").resolve()
