"""The files a user builds from: Dockerfile lint-clean, Makefile pins torch first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
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


def test_compose_profile_ollama_adds_the_server_and_pulls_the_model() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["ollama"]["profiles"] == ["ollama"]
    assert services["ollama-pull"]["profiles"] == ["ollama"]
    assert services["ollama-pull"]["command"][0] == "pull"
    assert services["ollama-pull"]["environment"]["OLLAMA_HOST"] == "ollama:11434"
    for name in ("replica1", "replica2"):  # not in the profile: they start without it
        assert "profiles" not in services[name]
        env = services[name]["environment"]
        assert env["BRIEFING_LLM_BASE_URL"] == "${BRIEFING_LLM_BASE_URL:-}"
        assert env["BRIEFING_ENGINE"] == "${BRIEFING_ENGINE:-auto}"
    header = (ROOT / "docker-compose.yml").read_text().split("x-briefing")[0]
    assert "BRIEFING_LLM_BASE_URL=http://ollama:11434/v1" in header
    assert "--profile ollama" in header and "ollama pull" in header


def test_a_wheel_install_has_the_prompts_and_the_version(tmp_path: Path) -> None:
    """Build the wheel from a copy of the sources, unpack it (a non-editable install), and
    load the prompts from it with nothing of the checkout on the path."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "service", source / "service",
                    ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("briefing_service-*.whl")
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(installed)
    kinds = ("short", "long", "reduce")
    assert {f"service/prompts/templates/{kind}.toml" for kind in kinds} <= set(names)
    assert {f"service/prompts/templates/llm/{kind}.toml" for kind in kinds} <= set(names)
    # -S: no site-packages (so no editable checkout either); the wheel's files only.
    probe = (
        "import service, service.prompts as p; from service.prompts import load_prompts;"
        "print(service.__file__); print(service.__version__); print(load_prompts().version);"
        "print(load_prompts(family='llm').version)"
    )
    done = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(installed)})
    assert done.returncode == 0, done.stderr
    where, version, prompt_version, llm_prompt_version = done.stdout.split()
    assert Path(where).is_relative_to(installed)
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    from service.prompts import load_prompts

    assert prompt_version == load_prompts().version
    assert llm_prompt_version == load_prompts(family="llm").version


def test_the_conversion_stage_copies_every_module_the_conversion_imports(
    tmp_path: Path,
) -> None:
    """The Dockerfile's `converted` stage copies a few modules so that other code changes do
    not convert again; the conversion must import with those alone."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stage = dockerfile.split(" AS converted", 1)[1].split("\nFROM ", 1)[0]
    copies = [line.split()[1:-1] for line in stage.splitlines() if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            target = tmp_path / source
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    # -S: site-packages without its .pth files, so no editable checkout can fill the gaps.
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import service.engines.ctranslate2_runtime as r;"
         "import service.engines.seq2seq, service.config, service.prompts; print(r.__file__)"],
        capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": os.pathsep.join([str(tmp_path), *sorted(paths)])},
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(tmp_path)
