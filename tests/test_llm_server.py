"""The llm engine against a real OpenAI-compatible server: ``transformers serve`` with a
tiny random-weight Llama built by the tests (tests/chat_model.py; nothing is downloaded).

Its answers are random words, so these tests assert the protocol: what comes back, the
server's model id and token counts, max_tokens, timeouts and calls at once. When the server
cannot start here the tests skip with the reason; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.engines import GenerationRequest
from service.engines.llm import LlmEngine
from service.errors import EngineUnavailable
from service.metrics import Metrics
from service.prompts import load_prompts
from tests.chat_model import ChatServer, build_tiny_chat_model, running_server

LLM_PROMPTS = load_prompts(family="llm")
SEED_TEXT = (Path(__file__).parent / "seed_article.txt").read_text(encoding="utf-8")
ARTICLE = " ".join(SEED_TEXT.split()[:300])


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    model_dir = build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat-llama"))
    try:
        with running_server(model_dir, tmp_path_factory.mktemp("serve-log")) as server:
            yield server
            return
    except RuntimeError as exc:
        reason = f"transformers serve could not start: {exc}"[:500]
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run it")
    pytest.skip(reason)


@pytest.fixture
def make_engine(
    make_settings: Callable[..., Settings], chat_server: ChatServer
) -> Iterator[Callable[..., LlmEngine]]:
    engines: list[LlmEngine] = []

    def make(**overrides: object) -> LlmEngine:
        values: dict[str, object] = {"engine": "llm", "llm_base_url": chat_server.base_url,
                                     "llm_model": chat_server.model, **overrides}
        engine = LlmEngine(make_settings(**values), LLM_PROMPTS, metrics=Metrics())
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def tokens(engine: LlmEngine, direction: str) -> float:
    assert engine.metrics is not None
    return engine.metrics.registry.get_sample_value(
        "briefing_llm_tokens_total", {"direction": direction}
    ) or 0.0


def test_the_real_server_answers_with_its_model_and_usage(
    make_engine: Callable[..., LlmEngine], chat_server: ChatServer
) -> None:
    engine = make_engine()
    short, long = engine.generate([GenerationRequest(ARTICLE, LLM_PROMPTS["short"]),
                                   GenerationRequest(ARTICLE, LLM_PROMPTS["long"])])
    assert short.strip() and long.strip()  # random words, cleaned
    assert engine.served_model == chat_server.model  # what the server says it ran
    assert tokens(engine, "prompt") > 2 * 300  # the article, twice, by the server's count
    limit = (LLM_PROMPTS["short"].generation.max_new_tokens
             + LLM_PROMPTS["long"].generation.max_new_tokens)
    assert 0 < tokens(engine, "completion") <= limit  # max_tokens held


def test_the_probe_finds_the_real_server_and_its_model(
    make_engine: Callable[..., LlmEngine], chat_server: ChatServer
) -> None:
    status = make_engine().probe()
    assert status.reachable and status.model_listed and status.error is None


def test_a_call_slower_than_the_timeout_gives_up(make_engine: Callable[..., LlmEngine]) -> None:
    engine = make_engine(llm_timeout_s=0.01)
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="no answer within") as caught:
        engine.generate([GenerationRequest(ARTICLE, LLM_PROMPTS["long"])])
    assert caught.value.reason == "timeout" and time.monotonic() - started < 2


def test_calls_at_once_are_all_answered(make_engine: Callable[..., LlmEngine]) -> None:
    engine = make_engine(llm_concurrency=2)
    requests = [GenerationRequest(f"{ARTICLE} Item {i}.", LLM_PROMPTS["short"])
                for i in range(3)]
    outputs: list[list[str]] = []
    callers = [threading.Thread(target=lambda: outputs.append(engine.generate(requests)))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(120)
    assert len(outputs) == 2 and all(len(o) == 3 and all(o) for o in outputs)
    assert engine.metrics is not None
    assert engine.metrics.registry.get_sample_value(
        "briefing_llm_calls_total", {"outcome": "ok"}) == 6


def test_a_briefing_through_the_api_from_the_real_server(
    make_client: Callable[..., TestClient], chat_server: ChatServer
) -> None:
    client = make_client(engine="llm", llm_base_url=chat_server.base_url,
                         llm_model=chat_server.model)
    answer = client.post("/v1/briefings", json={"title": "NATO munitions", "text": ARTICLE})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["engine"] == "llm" and body["model"] == chat_server.model
    assert "fallback_reason" not in body
    assert body["short"] and len(body["short"].split()) <= 50  # the length rules hold
    assert client.get("/readyz").json()["llm"]["reachable"] is True
