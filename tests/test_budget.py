"""The pass budget holds whatever is sent, and the answer says what the model read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from service.config import Settings
from service.engines import GenerationRequest
from service.engines.extractive import ExtractiveEngine, select_within
from service.storage.articles import Article
from tests.test_briefing import _service, story


class Counting(ExtractiveEngine):
    """Extractive output through a 300-word window, counting the prompts it runs."""

    max_input_tokens = 300

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        self.prompts += [r.prompt.kind for r in requests]
        return super().generate(requests)


@pytest.mark.parametrize("budget", [2, 5, 16])
def test_the_budget_holds_for_forty_stories_and_is_reported(
    make_settings: Callable[..., Settings], budget: int
) -> None:
    engine = Counting()
    service = _service(make_settings(max_model_passes=budget), engine)
    text = "\n\n".join(story(n) for n in range(40))
    try:
        info = service.brief(Article(text=text))["input"]
    finally:
        service.close()
    assert len(engine.prompts) == info["model_passes"] <= budget == info["max_model_passes"]
    assert engine.prompts[-2:] == ["long", "short"] or engine.prompts[-2:] == ["short", "long"]
    assert info["chars_left_out"] == info["chars_read"] - info["chars_selected"]
    assert info["truncated"] is (info["chars_left_out"] > 0 or info["dropped_chars"] > 0)
    if budget < 16:  # too few passes for every chunk: salient parts, the rest left out
        assert info["selection"] == "salient" and info["truncated"] is True
        assert 0 < info["chars_selected"] < info["chars_read"]


def test_a_typical_article_takes_one_pass_per_briefing(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Counting()
    service = _service(make_settings(), engine)
    text = "\n\n".join(story(n) for n in range(4))  # ~400 words: past the window
    try:
        info = service.brief(Article(text=text))["input"]
    finally:
        service.close()
    assert engine.prompts.count("reduce") == 0 and info["model_passes"] == 2
    assert info["chunks"] == 1 and info["reduce_rounds"] == 0
    assert info["selection"] == "salient" and info["chars_left_out"] > 0


def test_long_input_within_budget_is_map_reduced_whole(
    make_settings: Callable[..., Settings],
) -> None:
    engine = Counting()
    service = _service(make_settings(one_pass_max_tokens=0), engine)
    text = "\n\n".join(story(n) for n in range(6))  # ~600 words: three windows
    try:
        info = service.brief(Article(text=text))["input"]
    finally:
        service.close()
    assert info["selection"] == "all" and info["chars_left_out"] == 0
    assert info["chunks"] >= 2 and engine.prompts.count("reduce") == info["chunks"]
    assert info["truncated"] is False


def test_select_within_keeps_article_order_and_the_budget() -> None:
    sentences = [s for n in range(4) for s in story(n, paragraphs=1).split(". ")]
    costs = [len(s.split()) for s in sentences]
    picked = select_within(sentences, costs, 40)
    assert picked == sorted(picked) and sum(costs[i] for i in picked) <= 40
    assert picked and sum(costs) > 40  # something had to be left out
