"""The request path's long-input handling: map-reduce that always terminates, and reports."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.briefing import BriefingService
from service.config import Settings
from service.engines import EngineChoice, GenerationRequest
from service.engines.extractive import ExtractiveEngine
from service.metrics import Metrics
from service.prompts import load_prompts
from service.storage.articles import Article
from service.wiring import Wiring
from tests.storage_support import OwnCache, OwnStore

CITIES = ["Lisbon", "Oslo", "Leeds", "Graz", "Turin", "Lyon", "Porto", "Bergen"]
WORDS = """council budget river bridge school hospital airport farmers market station
harbour museum festival storm police court union teachers doctors nurses drivers miners
factory mine forest valley village tower library stadium theatre railway canal museum
energy water housing tax fuel wages prices exports imports loans rents fares""".split()
VERBS = "approved rejected delayed opened closed funded blocked expanded reviewed".split()


def story(n: int, paragraphs: int = 4) -> str:
    """A small news story of our own; words vary by n, so stories are not near-duplicates."""
    rng = random.Random(n)
    city = CITIES[n % len(CITIES)]

    def sentence() -> str:
        a, b, c = rng.sample(WORDS, 3)
        return (f"The {a} {rng.choice(VERBS)} the {b} plan for {c} in {city}, "
                f"officials said on day {n + 1}.")

    return "\n\n".join(" ".join(sentence() for _ in range(2)) for _ in range(paragraphs))


def test_forty_stories_back_to_back_get_both_briefings(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    # Short stories keep the tiny model's map-reduce quick; the window is the default 512.
    text = "\n\n".join(story(n, paragraphs=1) for n in range(40))
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir))
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/briefings", json={"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["short"] and body["long"]
    info = body["input"]
    assert info["chunks"] >= 5
    assert 1 <= info["reduce_rounds"] <= settings.reduce_max_depth
    assert info["tokens"] > 2000


class NeverShorter(ExtractiveEngine):
    """An engine whose 'summaries' are longer than their input: reduction cannot progress."""

    max_input_tokens = 300  # room for two map outputs: the map step runs

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return [f"{r.text} {r.text}" for r in requests]


class OwnService(BriefingService):
    """The request path over a cache and a store of its own, closed with it."""

    def close(self) -> None:
        self.cache.close()  # type: ignore[attr-defined]
        self.store.close()


def _service(settings: Settings, engine: ExtractiveEngine) -> OwnService:
    return OwnService(
        settings, EngineChoice(engine), load_prompts(), OwnCache(settings), OwnStore(settings),
        Metrics(),
    )


def test_reduction_terminates_and_reports_the_cut(
    make_settings: Callable[..., Settings],
) -> None:
    # one_pass_max_tokens=0: map-reduce instead of salient sentences in one window
    service = _service(make_settings(one_pass_max_tokens=0), NeverShorter())
    try:
        result = service.brief(Article(text="\n\n".join(story(n) for n in range(5))))
    finally:
        service.close()
    info = result["input"]
    assert info["truncated"] is True
    assert info["dropped_chars"] > 0
    assert info["reduce_rounds"] == 1


def test_input_over_the_character_limit_is_cut_and_reported(
    make_settings: Callable[..., Settings],
) -> None:
    text = "\n\n".join(story(n) for n in range(10))
    service = _service(make_settings(max_input_chars=1000), ExtractiveEngine())
    try:
        result = service.brief(Article(text=text))
    finally:
        service.close()
    assert result["input"]["truncated"] is True
    assert 0 < result["input"]["dropped_chars"] < len(text)
    assert "day 10" not in result["long"]  # story 9 was cut off


class Fabricating(ExtractiveEngine):
    """Returns a supported sentence and one with a number the article never mentions."""

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return ["Officials in Lisbon announced a new budget plan. The plan adds 999 homes."
                for _ in requests]


def test_unsupported_sentences_are_flagged_by_default(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(), Fabricating())
    try:
        result = service.brief(Article(text=story(0)))
    finally:
        service.close()
    assert "999 homes" in result["long"] and "999 homes" in result["short"]
    flagged = result["checks"]["unsupported"]
    assert {item["briefing"] for item in flagged} == {"short", "long"}
    assert all(item["missing"] == ["999"] and item["dropped"] is False for item in flagged)


def test_drop_mode_removes_unsupported_sentences(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(unsupported="drop"), Fabricating())
    try:
        result = service.brief(Article(text=story(0)))
    finally:
        service.close()
    assert result["long"] == "Officials in Lisbon announced a new budget plan."
    assert result["short"] == "Officials in Lisbon announced a new budget plan."
    assert all(item["dropped"] for item in result["checks"]["unsupported"])


class Recording(ExtractiveEngine):
    """Extractive picks under another name (so ``auto`` treats it as a writer), recording
    each generate() call's (kind, source text) pairs."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[tuple[str, str]]] = []

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        self.calls.append([(r.prompt.kind, r.text) for r in requests])
        return super().generate(requests)


def test_short_is_written_from_the_long_one_by_seq2seq_and_from_the_article_otherwise(
    make_settings: Callable[..., Settings],
) -> None:
    text = "\n\n".join(story(n) for n in range(3))
    by_source = {}
    for source in ("auto", "article"):
        engine = Recording()
        service = _service(make_settings(short_source=source), engine)
        try:
            by_source[source] = service.brief(Article(text=text))
        finally:
            service.close()
        by_source[source]["calls"] = engine.calls
    (long_call,), (short_call,) = by_source["auto"]["calls"]
    assert long_call[0] == "long" and short_call[0] == "short"
    assert short_call[1] == by_source["auto"]["long"]  # the long briefing, not the article
    (batch,) = by_source["article"]["calls"]
    assert [kind for kind, _ in batch] == ["short", "long"]
    assert {source for _, source in batch} == {long_call[1]}  # both from the article
    # The key says how the short one was written: the two results are cached apart.
    assert by_source["auto"]["id"] != by_source["article"]["id"]

    # The extractive engine picks sentences of the article for both under auto.
    engine = ExtractiveEngine()
    calls: list[int] = []
    original = engine.generate
    engine.generate = lambda requests, cancellation=None: (  # type: ignore[method-assign]
        calls.append(len(requests)) or original(requests, cancellation))
    service = _service(make_settings(), engine)
    try:
        service.brief(Article(text=text))
    finally:
        service.close()
    assert calls == [2]


class ShortQuotesWhatLongLeavesOut(ExtractiveEngine):
    """The long briefing leaves out a sentence that the short one quotes from the article."""

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: object = None
    ) -> list[str]:
        return ["Mayor Ana Ruiz opened the bridge on Tuesday." if r.prompt.kind == "short"
                else "The city opened a new bridge this week." for r in requests]


def test_each_briefing_is_checked_against_the_article_not_the_short_against_the_long(
    make_settings: Callable[..., Settings],
) -> None:
    text = ("Mayor Ana Ruiz opened the bridge on Tuesday. The city opened a new bridge this "
            "week after ten years of debate about its cost.")
    service = _service(make_settings(unsupported="drop", short_source="long"),
                       ShortQuotesWhatLongLeavesOut())
    try:
        result = service.brief(Article(text=text))
    finally:
        service.close()
    assert result["short"] == "Mayor Ana Ruiz opened the bridge on Tuesday."
    assert result["checks"]["unsupported"] == []


def test_a_page_reports_what_its_extraction_kept(make_settings: Callable[..., Settings]) -> None:
    body = "".join(f"<p>{story(n, paragraphs=1)}</p>" for n in range(3))
    nav = "".join(f"<li><a href='/{n}'>Section number {n} of the site</a></li>"
                  for n in range(60))
    page = f"<html><body><nav><ul>{nav}</ul></nav><article>{body}</article></body></html>"
    service = _service(make_settings(), ExtractiveEngine())
    try:
        extraction = service.brief(Article(text=page))["input"]["extraction"]
        plain = service.brief(Article(text=story(1)))["input"]
    finally:
        service.close()
    assert extraction["mode"] == "precision"
    assert 0 < extraction["kept_words"] < extraction["visible_words"]
    assert extraction["kept"] == round(extraction["kept_words"] / extraction["visible_words"], 3)
    assert "extraction" not in plain  # text, not a page


def test_a_repeated_article_is_stored_and_linked_in_one_write(
    make_settings: Callable[..., Settings],
) -> None:
    from sqlalchemy import select

    from service.storage.schema import articles

    wiring = Wiring.open(make_settings(engine="extractive"), Metrics())
    service = wiring.briefing
    try:
        first = service.brief(Article(text=story(1)))
        writes: list[str] = []
        database = service.store.database
        write = database.write

        def counted(what: str):  # type: ignore[no-untyped-def]
            writes.append(what)
            return write(what)

        database.write = counted  # type: ignore[method-assign]
        again = service.brief(Article(text=story(1)))  # the same text: its alias
        spaced = service.brief(Article(text=story(1).replace(" ", "  ")))  # same cleaned text
        assert again["cached"] and spaced["cached"] and again["id"] == spaced["id"] == first["id"]
        assert writes == ["could not store the article"] * 2  # one write each, no second
        with database.read("test") as conn:
            linked = conn.execute(select(articles.c.briefing_id).order_by(articles.c.id)).all()
        assert [row[0] for row in linked] == [first["id"]] * 3
    finally:
        wiring.close()


def test_a_repeated_article_answers_from_the_recent_answers_without_reading_the_cache(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(), ExtractiveEngine())
    reads: list[str] = []
    by_alias = service.cache.get_by_alias

    def counted(alias: str) -> object:
        reads.append(alias)
        return by_alias(alias)

    service.cache.get_by_alias = counted  # type: ignore[method-assign]
    try:
        article = Article(text=story(1))
        first = service.brief(article)
        again = service.brief(article)
        assert reads == [reads[0]]  # the miss looked up the alias; the repeat did not
        assert again["cached"] is True and again["id"] == first["id"]
        assert {k: v for k, v in again.items() if k != "cached"} == {
            k: v for k, v in first.items() if k != "cached"}
        assert service.store.count() == 2  # the repeat is still stored
        # another setting that shapes the answer is another alias: looked up, not reused
        assert service.brief(article, ["short"])["id"] != first["id"]
        assert len(reads) == 2
        # without the recent answers (capacity 0), every repeat reads the cache
        service.recent.capacity = 0
        service.recent.clear()
        assert service.brief(article)["cached"] is True
        assert len(reads) == 3
    finally:
        service.close()
