"""The llm engine against a fake OpenAI-compatible server on loopback (tests/chat_fake.py):
what it sends, how it cleans, retries, times out and bounds its calls; its prompts, settings
and token estimate. tests/test_llm_api.py goes through the API; tests/test_llm_server.py
talks to a real server."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings
from service.engines import GenerationRequest, select_engine
from service.engines.llm import (
    MAX_ATTEMPTS,
    THINKING_OFF,
    LlmEngine,
    estimate_tokens,
)
from service.engines.llm_output import clean, strip_thinking
from service.errors import EngineUnavailable, ModelUnavailable
from service.metrics import Metrics
from service.prompts import DEFAULT_PROMPTS, KINDS, load_prompts
from tests.chat_fake import Answer, FakeChatServer
from tests.chat_model import free_port

LLM_PROMPTS = load_prompts(family="llm")
ARTICLE = ("The city council of Drammel voted on Tuesday to turn the old tram depot on Dock "
           "Street into a covered market with sixty stalls. Construction starts in June.")


@pytest.fixture
def make_engine(
    make_settings: Callable[..., Settings], fake: FakeChatServer
) -> Iterator[Callable[..., LlmEngine]]:
    engines: list[LlmEngine] = []

    def make(**overrides: object) -> LlmEngine:
        values: dict[str, object] = {"engine": "llm", "llm_base_url": fake.base_url,
                                     "llm_model": "fake-model", **overrides}
        engine = LlmEngine(make_settings(**values), LLM_PROMPTS, metrics=Metrics())
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def brief(engine: LlmEngine, kind: str = "short", text: str = ARTICLE) -> str:
    return engine.generate([GenerationRequest(text, LLM_PROMPTS[kind])])[0]


_LABELS = {"briefing_llm_calls_total": "outcome", "briefing_llm_tokens_total": "direction"}


def counted(engine: LlmEngine, metric: str, label: str) -> float:
    assert engine.metrics is not None
    value = engine.metrics.registry.get_sample_value(metric, {_LABELS[metric]: label})
    return value or 0.0


# -- cleaning -----------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "expected"), [
    ("Sure! Here is a summary of the article:\n\nThe council voted to build a market.",
     "The council voted to build a market."),
    ("<think>The user wants two sentences. The article says...</think>\n\nThe council voted.",
     "The council voted."),
    ("Okay, so the article is about a market.</think>The council voted.", "The council voted."),
    ("**Summary:** The council **voted** on Tuesday to turn the _old_ depot into a market.",
     "The council voted on Tuesday to turn the old depot into a market."),
    ("## Summary\n\n- The council voted on Tuesday\n- Construction starts in June\n\n"
     "I hope this helps!", "The council voted on Tuesday. Construction starts in June."),
    ("Here is a two-sentence briefing of the article.\nThe council voted. It costs 12 million "
     "euros.", "The council voted. It costs 12 million euros."),
    ("# Drammel gets a market\nThe council voted, the mayor said.",
     "The council voted, the mayor said."),
    ('"The council voted to build a market."', "The council voted to build a market."),
    ("```\nThe council voted.\n```", "The council voted."),
    ("Certainly! **Short briefing:** The council voted.", "The council voted."),
    ("The council voted. Let me know if you need a longer version.", "The council voted."),
    ("<|channel|>analysis<|message|>We need a summary.<|end|><|start|>assistant<|channel|>"
     "final<|message|>The council voted.", "The council voted."),
    # content that looks like decoration stays
    ("Here is where the fire started, officials said on Monday after a long search.",
     "Here is where the fire started, officials said on Monday after a long search."),
    ("Summary judgment was granted on Friday.", "Summary judgment was granted on Friday."),
    ("Briefing-room officials said the talks failed.",
     "Briefing-room officials said the talks failed."),
    ("The 2*3 rule and snake_case names stay.", "The 2*3 rule and snake_case names stay."),
])
def test_answers_are_cleaned_to_the_briefing(answer: str, expected: str) -> None:
    assert clean(answer) == expected


def test_an_answer_cut_off_while_thinking_is_empty() -> None:
    assert strip_thinking("<think>The article is about a market, so") == ""
    assert clean("<THINK>hmm</THINK>") == ""


# -- token estimate -----------------------------------------------------------------------


def test_token_estimate_golden_values() -> None:
    assert estimate_tokens("The council voted.") == 5  # "council": 7 letters, 2 tokens
    assert estimate_tokens("infrastructure") == 3  # 14 letters: a token per five begun
    assert estimate_tokens("Führungskräfte") == 3
    assert estimate_tokens("2,000 people") == 7  # each digit and mark, and 2 for "people"
    assert estimate_tokens("東京都の人口") == 6  # a token per character
    assert estimate_tokens("Привет мир") == 3  # another alphabet: per three letters begun
    seed = (Path(__file__).parent / "seed_article.txt").read_text(encoding="utf-8")
    assert 1.3 <= estimate_tokens(seed) / len(seed.split()) <= 1.7


def test_split_by_tokens_keeps_words_and_the_budget(
    make_engine: Callable[..., LlmEngine],
) -> None:
    engine = make_engine()
    text = ("The city council approved a new budget on Tuesday after a long debate. " * 30
            + "東京都の人口は増えている" * 20)
    pieces = engine.split_by_tokens(text, 50)
    assert len(pieces) > 3
    assert all(0 < engine.count_tokens(p) <= 50 for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_the_window_is_the_context_less_prompt_and_answer(
    make_engine: Callable[..., LlmEngine],
) -> None:
    engine = make_engine()
    assert 7000 < engine.max_input_tokens < 8192 - 400  # the long answer's 400 tokens off
    assert make_engine(llm_context_tokens=16384).max_input_tokens == (
        engine.max_input_tokens + 8192
    )
    with pytest.raises(ModelUnavailable, match="BRIEFING_LLM_CONTEXT_TOKENS=600"):
        make_engine(llm_context_tokens=600)


# -- prompts and settings -----------------------------------------------------------------


def test_the_seq2seq_prompts_and_their_version_are_unchanged() -> None:
    digest = hashlib.sha256()
    for kind in KINDS:
        digest.update(kind.encode() + b"\0" + (DEFAULT_PROMPTS / f"{kind}.toml").read_bytes()
                      + b"\0")
    assert load_prompts().version == digest.hexdigest()[:16]
    assert LLM_PROMPTS.version != load_prompts().version


def test_llm_prompts_are_chat_prompts_with_optional_title() -> None:
    short = LLM_PROMPTS["short"]
    assert short.system and "{text}" in short.template
    assert short.temperature is not None and short.generation.max_new_tokens > 0
    system, user = short.render_chat("ARTICLE TEXT")
    assert "Title:" not in user and "\n\n\n" not in user and user.endswith("ARTICLE TEXT")
    assert "the language of the article" in system
    system, user = short.render_chat("ARTICLE TEXT", title="Tram depot", language="German")
    assert "Title: Tram depot" in user and "Write in German." in system


@pytest.mark.parametrize(("user", "error"), [
    ("Brief it: {text} in {style}", "unknown slots"),
    ("Brief the article.", "no {text} slot"),
    ("Brief {text", "write {{"),
])
def test_a_broken_chat_prompt_fails_loudly(tmp_path: Path, user: str, error: str) -> None:
    for kind in KINDS:
        (tmp_path / "llm").mkdir(exist_ok=True)
        (tmp_path / "llm" / f"{kind}.toml").write_text(
            f'system = "Brief."\nuser = """{user}"""\n[generation]\nmax_tokens = 50\n'
        )
    with pytest.raises(ValueError, match=error):
        load_prompts(tmp_path, family="llm")


def test_llm_settings_are_checked(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BRIEFING_LLM_BASE_URL and BRIEFING_LLM_MODEL"):
        make_settings(engine="llm")
    with pytest.raises(ValidationError, match="must not hold credentials"):
        make_settings(engine="llm", llm_base_url="http://u:p@127.0.0.1:1/v1", llm_model="m")
    settings = make_settings(engine="llm", llm_base_url="http://127.0.0.1:11434/v1/",
                             llm_model="m")
    assert settings.llm_base_url == "http://127.0.0.1:11434/v1"
    assert settings.llm_concurrency == 4 and settings.llm_context_tokens == 8192
    assert settings.llm_fallback is True
    key_file = tmp_path / "llm-key"
    key_file.write_text("sk-secret-123\n")
    settings = make_settings(engine="llm", llm_base_url="http://127.0.0.1:1/v1",
                             llm_model="m", llm_api_key_file=key_file)
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-secret-123"
    assert "sk-secret-123" not in repr(settings)


# -- what is sent, what comes back ----------------------------------------------------------


def test_the_request_carries_the_prompt_settings_and_thinking_off(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine(llm_api_key="sk-secret-123")
    assert brief(engine) == Answer().content
    (seen,) = fake.posts()
    body = seen.body
    assert body is not None and seen.path == "/v1/chat/completions"
    assert body["model"] == "fake-model" and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert ARTICLE in body["messages"][1]["content"]
    assert body["max_tokens"] == LLM_PROMPTS["short"].generation.max_new_tokens
    assert body["temperature"] == LLM_PROMPTS["short"].temperature
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["reasoning_effort"] == "none"
    assert seen.headers["Authorization"] == "Bearer sk-secret-123"
    # the model the server says it ran; its usage counted
    assert engine.served_model == "fake-model:7b" and engine.model_id == "fake-model"
    assert counted(engine, "briefing_llm_calls_total", "ok") == 1
    assert counted(engine, "briefing_llm_tokens_total", "prompt") == 120
    assert counted(engine, "briefing_llm_tokens_total", "completion") == 30


def test_thinking_preambles_and_markdown_are_cleaned_and_reasoning_ignored(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.then(
        Answer("<think>They want it short.</think>Sure! Here's the briefing:\n\n"
               "**The council** voted to build a market.", reasoning="Long reasoning."),
        Answer("## Briefing\n- The council voted.\n- Work starts in June."),
    )
    assert brief(engine) == "The council voted to build a market."
    assert brief(engine, "long") == "The council voted. Work starts in June."


def test_an_answer_with_only_thinking_is_a_failure_not_a_briefing(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.then(Answer(None, reasoning="The article says...", finish_reason="length"))
    with pytest.raises(EngineUnavailable, match="max_tokens first") as caught:
        brief(engine)
    assert caught.value.reason == "bad_answer" and len(fake.posts()) == 1  # not retried


def test_a_server_that_refuses_a_thinking_field_is_asked_again_without_it(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer, caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine()
    fake.then(Answer(status=400, body={"error": {"message": "reasoning_effort: Input should "
                                                 "be 'low', 'medium' or 'high'"}}))
    with caplog.at_level(logging.WARNING):
        assert brief(engine) == Answer().content
        assert brief(engine) == Answer().content
    first, second, third = (p.body or {} for p in fake.posts())
    assert "reasoning_effort" in first and "reasoning_effort" not in second
    assert "reasoning_effort" not in third and third["chat_template_kwargs"] == (
        THINKING_OFF["chat_template_kwargs"]
    )
    assert "refused reasoning_effort" in caplog.text


# -- failures -------------------------------------------------------------------------------


def test_429_waits_what_retry_after_asks_then_succeeds(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.then(Answer(status=429, headers={"Retry-After": "1"}))
    assert brief(engine) == Answer().content
    first, second = fake.posts()
    assert second.at - first.at >= 0.95
    assert counted(engine, "briefing_llm_calls_total", "rate_limited") == 1


def test_a_retry_after_past_the_deadline_gives_up_at_once(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    from service.cancellation import Cancellation

    engine = make_engine()
    fake.then(Answer(status=503, headers={"Retry-After": "30"}))
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="would pass the request's deadline") as caught:
        engine.generate([GenerationRequest(ARTICLE, LLM_PROMPTS["short"])],
                        Cancellation(deadline=time.monotonic() + 10))
    assert time.monotonic() - started < 2 and len(fake.posts()) == 1
    assert caught.value.retry_after_s == 30  # the 503's Retry-After says when to come back


def test_500s_are_retried_a_bounded_number_of_times(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.default = Answer(status=500, body="upstream exploded")
    with pytest.raises(EngineUnavailable, match="HTTP 500: upstream exploded") as caught:
        brief(engine)
    assert caught.value.reason == "server_error"
    assert f"{MAX_ATTEMPTS} attempts" in caught.value.message
    assert len(fake.posts()) == MAX_ATTEMPTS
    assert fake.base_url in caught.value.message  # the server is named


def test_a_dropped_connection_is_retried(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.then(Answer(drop=True))
    assert brief(engine) == Answer().content
    assert len(fake.posts()) == 2
    assert counted(engine, "briefing_llm_calls_total", "unreachable") == 1


def test_a_slow_answer_times_out_once_without_a_retry(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine(llm_timeout_s=0.5)
    fake.then(Answer(stall_s=5))
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"no answer within 0.5s") as caught:
        brief(engine)
    assert time.monotonic() - started < 2.5
    assert caught.value.reason == "timeout" and len(fake.posts()) == 1


def test_the_deadline_bounds_a_call_and_keeps_time_for_the_fallback(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    from service.cancellation import Cancellation

    engine = make_engine(request_timeout_s=10)  # a reserve of 1 s for the fallback
    fake.then(Answer(stall_s=5))
    started = time.monotonic()
    with pytest.raises(EngineUnavailable):
        engine.generate([GenerationRequest(ARTICLE, LLM_PROMPTS["short"])],
                        Cancellation(deadline=started + 2.0))
    assert 0.8 <= time.monotonic() - started < 1.6  # gave up 1 s before the deadline


def test_wrong_key_is_refused_without_retry_and_without_the_key(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer, caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(llm_api_key="sk-secret-123")
    fake.default = Answer(status=401, body={"error": {"message": "invalid api key"}})
    with caplog.at_level(logging.DEBUG), pytest.raises(EngineUnavailable) as caught:
        brief(engine)
    assert "BRIEFING_LLM_API_KEY" in caught.value.message and len(fake.posts()) == 1
    assert "sk-secret-123" not in caught.value.message + caplog.text


def test_a_server_that_is_down_fails_fast(make_engine: Callable[..., LlmEngine]) -> None:
    engine = make_engine(llm_base_url=f"http://127.0.0.1:{free_port()}/v1")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="could not connect") as caught:
        brief(engine)
    assert caught.value.reason == "unreachable" and time.monotonic() - started < 5
    assert f"{MAX_ATTEMPTS} attempts" in caught.value.message
    # while it stays down, the next briefings try once (no backoff to wait out)
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="1 attempt in"):
        brief(engine)
    assert time.monotonic() - started < 0.5


def test_a_server_back_up_gets_retries_again(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.then(*[Answer(drop=True)] * (MAX_ATTEMPTS + 1))
    with pytest.raises(EngineUnavailable, match=f"{MAX_ATTEMPTS} attempts"):
        brief(engine)
    with pytest.raises(EngineUnavailable, match="1 attempt in"):
        brief(engine)  # found down a moment ago: one try
    assert brief(engine) == Answer().content  # the one try succeeds: back to normal
    fake.then(Answer(drop=True))
    assert brief(engine) == Answer().content  # retried after a drop again
    assert len(fake.posts()) == MAX_ATTEMPTS + 1 + 1 + 2


def test_calls_in_flight_stay_within_the_concurrency(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine(llm_concurrency=2)
    fake.default = Answer(stall_s=0.3)
    requests = [GenerationRequest(f"{ARTICLE} {i}", LLM_PROMPTS["short"]) for i in range(3)]
    outputs: list[list[str]] = []
    callers = [threading.Thread(target=lambda: outputs.append(engine.generate(requests)))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    assert len(outputs) == 2 and all(len(o) == 3 for o in outputs)
    assert fake.most_in_flight == 2  # six calls, two at a time


def test_one_failed_prompt_fails_the_batch(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine()
    fake.default = lambda body: (Answer(status=404, body={"error": {"message": "model "
                                 "'fake-model' not found"}})
                                 if "one paragraph" in body["messages"][1]["content"]
                                 else Answer())
    with pytest.raises(EngineUnavailable, match="not found.*ending in /v1"):
        engine.generate([GenerationRequest(ARTICLE, LLM_PROMPTS["short"]),
                         GenerationRequest(ARTICLE, LLM_PROMPTS["long"])])


# -- readiness probe and the cache key ----------------------------------------------------


def test_the_probe_says_whether_the_server_answers_and_is_cached(
    make_engine: Callable[..., LlmEngine], fake: FakeChatServer,
) -> None:
    engine = make_engine(llm_model="fake-model:7b")
    status = engine.probe()
    assert status.reachable and status.model_listed and status.error is None
    fake.models_status = 500
    assert engine.probe() is status  # cached for a few seconds
    down = make_engine(llm_base_url=f"http://127.0.0.1:{free_port()}/v1").probe()
    assert not down.reachable and "could not connect" in (down.error or "")
    assert down.as_dict()["server"].startswith("http://127.0.0.1:")


def test_the_cache_key_parts_name_the_server_model_and_context(
    make_engine: Callable[..., LlmEngine],
) -> None:
    engine = make_engine()
    assert engine.model_id == "fake-model" and engine.name == "llm"
    other_server = make_engine(llm_base_url="http://127.0.0.1:9/v1")
    other_context = make_engine(llm_context_tokens=4096)
    revisions = {engine.model_revision, other_server.model_revision,
                 other_context.model_revision}
    assert len(revisions) == 3 and all("cleaning=" in r for r in revisions)


def test_select_engine_stands_the_extractive_engine_by(
    make_settings: Callable[..., Settings], fake: FakeChatServer,
) -> None:
    settings = make_settings(engine="llm", llm_base_url=fake.base_url, llm_model="m")
    choice = select_engine(settings, LLM_PROMPTS)
    assert isinstance(choice.engine, LlmEngine) and choice.fallback is not None
    assert choice.fallback.name == "extractive" and choice.fallback_reason is None
    choice.engine.close()  # type: ignore[attr-defined]
    strict = select_engine(make_settings(engine="llm", llm_base_url=fake.base_url,
                                         llm_model="m", llm_fallback=False), LLM_PROMPTS)
    assert strict.fallback is None
    strict.engine.close()  # type: ignore[attr-defined]
