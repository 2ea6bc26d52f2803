"""Engine selection and the production loader: fallback, clear reasons, bounded time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from service.config import Settings
from service.engines import GenerationRequest, select_engine
from service.engines.extractive import rank_sentences
from service.engines.seq2seq import directory_revision
from service.errors import ModelUnavailable
from service.prompts import load_prompts

PROMPTS = load_prompts()


def test_seq2seq_loads_the_tiny_model_and_generates(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    choice = select_engine(make_settings(engine="seq2seq", model=str(tiny_model_dir)), PROMPTS)
    engine = choice.engine
    assert engine.name == "seq2seq" and choice.fallback_reason is None
    assert engine.model_revision == directory_revision(tiny_model_dir)
    assert 16 <= engine.max_input_tokens < 512
    outputs = engine.generate([
        GenerationRequest("The council approved the budget on Tuesday.", PROMPTS["short"]),
        GenerationRequest("Heavy rain flooded roads in the north.", PROMPTS["long"]),
    ])
    assert len(outputs) == 2 and all(isinstance(o, str) and o for o in outputs)


def test_split_by_tokens_respects_the_budget(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    engine = select_engine(
        make_settings(engine="seq2seq", model=str(tiny_model_dir)), PROMPTS
    ).engine
    text = "The city council approved a new budget on Tuesday after a long debate. " * 20
    pieces = engine.split_by_tokens(text, 40)
    assert len(pieces) > 1
    assert all(engine.count_tokens(p) <= 44 for p in pieces)  # re-tokenizing may shift a bit


def test_seq2seq_without_a_model_is_a_clear_error(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with pytest.raises(ModelUnavailable, match="briefing model pull"):
        select_engine(make_settings(engine="seq2seq", model="no-org/no-model"), PROMPTS)


def test_auto_falls_back_with_the_reason(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    choice = select_engine(make_settings(engine="auto", model=str(broken)), PROMPTS)
    assert choice.engine.name == "extractive"
    assert "could not load model" in (choice.fallback_reason or "")


def test_loading_is_bounded_in_time(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch
) -> None:
    import service.engines.seq2seq as seq2seq

    release, finished = threading.Event(), threading.Event()

    def hang(*args, **kwargs):
        release.wait(60)  # a load that does not finish until the test lets it
        finished.set()

    monkeypatch.setattr(seq2seq, "_load", hang)
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir),
                             model_load_timeout_s=0.5)
    try:
        with pytest.raises(ModelUnavailable, match="longer than 0.5s"):
            select_engine(settings, PROMPTS)
        # it gave up while the load was still running: bounded by the timeout, not the load
        assert not finished.is_set()
    finally:
        release.set()


def test_extractive_ranking_prefers_central_sentences() -> None:
    sentences = [
        "The council approved the school budget on Tuesday.",
        "The school budget adds teachers and the council says schools need them.",
        "Parking was hard to find.",
        "Council members said the budget for schools was the largest in years.",
    ]
    ranking = rank_sentences(sentences)
    assert ranking[-1] == 2
    assert set(ranking[:2]) <= {0, 1, 3}


def test_a_missing_model_makes_no_network_call_at_start(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch
) -> None:
    import httpx

    import service.engines.seq2seq as seq2seq

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # so only the setting keeps it local
    calls: list[str] = []

    def no_network(*args: object, **kwargs: object) -> None:
        calls.append(str(args[:1]))
        raise httpx.ConnectError("the test allows no network")

    monkeypatch.setattr(httpx, "head", no_network)
    monkeypatch.setattr(httpx, "get", no_network)
    choice = select_engine(make_settings(engine="auto", model="google/flan-t5-base"), PROMPTS)
    assert choice.engine.name == "extractive" and calls == []
    assert "BRIEFING_MODEL_HUB" in (choice.fallback_reason or "")
    # Configured for the hub: it is asked (here it cannot be reached, and says so).
    with pytest.raises(ModelUnavailable, match="cannot be reached"):
        seq2seq.resolve_model_source(make_settings(model="google/flan-t5-base", model_hub=True))
    assert calls
