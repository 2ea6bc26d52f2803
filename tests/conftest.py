"""Shared fixtures: the tiny model (built once per session) and settings in a temp data dir."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.servers import postgres_database, redis_prefix
from tests.tiny_model import build_tiny_t5

SEED_ARTICLE = (Path(__file__).resolve().parent / "seed_article.txt").read_text(encoding="utf-8")

# The tests never reach a model hub; fail fast instead of retrying for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Settings come from each test, never from the shell: an exported BRIEFING_SLACK_WEBHOOK_URL
# would otherwise receive the tests' digests, and a BRIEFING_API_KEYS would lock them out.
for _name in [name for name in os.environ if name.upper().startswith("BRIEFING_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a temp data dir; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        # No daily scheduler unless a test asks for one: a catch-up run at every app start
        # would build digests in tests about other things.
        # No pause between two requests to one host (the loopback site is every host here)
        # unless a test asks for one.
        values: dict[str, Any] = {
            "data_dir": tmp_path / "var", "engine": "extractive", "daily_cron": "",
            "fetch_host_interval_s": 0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def seq2seq_settings(make_settings: Callable[..., Settings], tiny_model_dir: Path) -> Settings:
    return make_settings(engine="seq2seq", model=str(tiny_model_dir))


@pytest.fixture
def seq2seq_client(seq2seq_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seq2seq_settings)) as client:
        yield client


@pytest.fixture
def extractive_client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(engine="extractive"))) as client:
        yield client


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Started apps (lifespan run) for settings overrides; all are shut down at the end."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def site() -> Iterator[Any]:
    """A news site on loopback run by the test (tests/loopback_site.py)."""
    from tests.loopback_site import running_site

    yield from running_site()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend (PostgreSQL: a database of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_url_and_prefix() -> Iterator[tuple[str, str]]:
    """The test Redis and a key prefix of this test's own."""
    with redis_prefix() as found:
        yield found


@pytest.fixture
def fake() -> Iterator[Any]:
    """A scripted OpenAI-compatible chat server on loopback (tests/chat_fake.py)."""
    from tests.chat_fake import fake_chat_server

    with fake_chat_server() as server:
        yield server


@pytest.fixture
def llm_client(make_client: Callable[..., TestClient], fake: Any) -> Callable[..., TestClient]:
    """Clients of apps on the llm engine, served by ``fake``."""

    def make(**overrides: object) -> TestClient:
        values: dict[str, object] = {"engine": "llm", "llm_base_url": fake.base_url,
                                     "llm_model": "fake-model", **overrides}
        return make_client(**values)

    return make
