"""Model families (issue 23): T5, BART, PEGASUS and mT5, told apart by their config.

Each family is a tiny random-weight model built here from its config class (BartConfig,
PegasusConfig, MT5Config; the session's T5), with a tokenizer trained here, saved with
``save_pretrained`` and loaded through the production loader; each is served end to end on
both runtimes (CTranslate2 converts all four). Outputs are noise: the tests assert what the
model was given and what the service says about it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from service.engines import prompt_family
from service.engines.base import GenerationRequest
from service.engines.families import FAMILIES, detect_family, model_window
from service.engines.seq2seq import load_seq2seq
from service.errors import ModelUnavailable
from service.prompts import GenerationSettings, load_prompts
from tests.conftest import SEED_ARTICLE
from tests.tiny_model import build_tiny

pytest.importorskip("ctranslate2")

FRENCH = (
    "Le conseil municipal de Lyon a approuvé mardi un nouveau budget de 1,5 milliard "
    "d'euros après un long débat sur les écoles. Le maire a déclaré que le plan ajouterait "
    "deux mille enseignants d'ici 2026. Les syndicats ont salué cette décision, mais "
    "l'opposition estime que les impôts locaux devront augmenter l'année prochaine. Les "
    "travaux commenceront en juin et dureront trois ans, selon la mairie."
)


@pytest.fixture(scope="module")
def family_dirs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> dict[str, Path]:
    """One tiny model per family (the T5 is the session's)."""
    dirs = {"t5": tiny_model_dir}
    for family in ("bart", "pegasus", "mt5"):
        dirs[family] = build_tiny(family, tmp_path_factory.mktemp(f"tiny-{family}"))
    return dirs


def _settings(make_settings: Callable[..., Settings], directory: Path, **overrides: object
              ) -> Settings:
    return make_settings(engine="seq2seq", model=str(directory), **overrides)


def test_the_family_comes_from_the_config() -> None:
    assert detect_family({"model_type": "bart"}).name == "bart"
    assert detect_family({"model_type": "mt5"}).prompts == "mt5"
    assert detect_family({"model_type": "t5"}).prompts is None  # the instruction prompts
    with pytest.raises(ModelUnavailable, match="'gpt2' is not a summarizer family"):
        detect_family({"model_type": "gpt2"})


def test_the_window_comes_from_the_model() -> None:
    bart, t5 = FAMILIES["bart"], FAMILIES["t5"]
    assert model_window({"max_position_embeddings": 1024}, 1e30, bart) == 1024
    assert model_window({}, 512, t5) == 512  # flan-t5's tokenizer says 512
    assert model_window({}, 1e30, t5) == 512  # nothing says: T5 was trained on 512
    # BRIEFING_MAX_INPUT_TOKENS lowers the model's limit, never raises it
    assert model_window({"max_position_embeddings": 1024}, 1024, bart, cap=700) == 700
    assert model_window({"max_position_embeddings": 1024}, 1024, bart, cap=4096) == 1024
    assert model_window({}, 1e30, t5, cap=3000) == 3000  # relative positions: no limit


@pytest.mark.parametrize("family", ["bart", "pegasus", "mt5"])
def test_plain_families_read_the_article_alone(
    family: str, family_dirs: dict[str, Path], make_settings: Callable[..., Settings]
) -> None:
    settings = _settings(make_settings, family_dirs[family], runtime="torch")
    assert prompt_family(settings) == family
    prompts = load_prompts(family=family)
    engine = load_seq2seq(settings, prompts)
    assert engine.family == family
    text = "The city council approved a new budget on Tuesday after a long debate."
    # short and long differ by their settings only; the model gets the article's tokens
    expected = engine.tokenizer.encode(text)
    for kind in ("short", "long", "reduce"):
        assert engine.prepare(GenerationRequest(text, prompts[kind])).ids == tuple(expected)
    assert prompts["short"].generation != prompts["long"].generation
    # the instruction prompts would be read as article text: refused, not used
    with pytest.raises(ModelUnavailable, match=f"is a {family} model"):
        load_seq2seq(settings, load_prompts())


@pytest.mark.parametrize("family", ["bart", "pegasus", "mt5"])
def test_ctranslate2_matches_torch_for_each_family(
    family: str, family_dirs: dict[str, Path], make_settings: Callable[..., Settings]
) -> None:
    """Greedy output of a float32 conversion equals transformers', token for token."""
    prompts = load_prompts(family=family)
    directory = family_dirs[family]
    torch_engine = load_seq2seq(_settings(make_settings, directory, runtime="torch"), prompts)
    ct2_engine = load_seq2seq(_settings(make_settings, directory, runtime="ctranslate2",
                                        quantization="float32"), prompts)
    assert ct2_engine.runtime.name == "ctranslate2-float32"
    assert ct2_engine.window == torch_engine.window
    greedy = GenerationSettings(max_new_tokens=16)
    prompt = prompts["short"].__class__("short", "{text}", greedy)
    texts = [p for p in SEED_ARTICLE.split("\n\n") if p.strip()][:5] + [FRENCH]
    batch = [torch_engine.prepare(GenerationRequest(t, prompt)) for t in texts]
    expected, got = torch_engine.run(batch), ct2_engine.run(batch)
    assert any(expected)
    # BART's config forces </s> as the last token at the length limit (forced_eos_token_id)
    # where CTranslate2 writes one more token: equal up to that last one.
    cut = greedy.max_new_tokens - 1
    assert [ids[:cut] for ids in got] == [ids[:cut] for ids in expected]
    assert [len(ids) < cut for ids in got] == [len(ids) < cut for ids in expected]


@pytest.mark.parametrize("runtime", ["ctranslate2", "torch"])
@pytest.mark.parametrize("family", ["t5", "bart", "pegasus", "mt5"])
def test_each_family_is_served_end_to_end(
    family: str, runtime: str, family_dirs: dict[str, Path],
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(make_settings, family_dirs[family], runtime=runtime)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz").json()
        assert ready["model_family"] == family
        assert ready["runtime"].startswith(runtime)
        window = 1024 if family in ("bart", "pegasus") else 512
        assert ready["window_tokens"] == window
        response = client.post("/v1/briefings", json={"text": SEED_ARTICLE})
        assert response.status_code == 200, response.text
        body = response.json()
    assert body["engine"] == "seq2seq" and body["model_family"] == family
    assert body["input"]["window_tokens"] == window
    assert body["short"] is not None and body["long"] is not None
    expected = load_prompts(family=FAMILIES[family].prompts).version
    assert body["prompt_version"] == expected


def test_a_bart_input_of_900_tokens_is_read_in_one_pass(
    family_dirs: dict[str, Path], make_settings: Callable[..., Settings]
) -> None:
    """BART reads 1,024 tokens: an article of 900 goes whole, one pass per briefing."""
    directory = family_dirs["bart"]
    settings = _settings(make_settings, directory, runtime="ctranslate2")
    engine = load_seq2seq(settings, load_prompts(family="bart"))
    text = ""
    for sentence in _distinct_sentences():
        if engine.count_tokens(f"{text} {sentence}") > 920:
            break
        text = f"{text} {sentence}".strip()
    assert 880 <= engine.count_tokens(text) <= 960
    with TestClient(create_app(settings)) as client:
        body = client.post("/v1/briefings", json={"text": text}).json()
    stats = body["input"]
    assert stats["window_tokens"] == 1024
    assert stats["tokens"] >= 850  # what the model read, once
    assert stats["chunks"] == 1 and stats["reduce_rounds"] == 0
    assert stats["truncated"] is False and stats["chars_left_out"] == 0
    assert stats["model_passes"] == 2  # the long briefing, then the short one from it


def _distinct_sentences() -> list[str]:
    """News-like sentences, none a repeat of another (cleaning would remove repeats)."""
    cities = ["Oslo", "Lyon", "Porto", "Gdansk", "Turin", "Leeds", "Malmo", "Ghent", "Brno",
              "Cork", "Bergen", "Seville", "Utrecht", "Graz", "Tartu", "Basel", "Aarhus"]
    who = ["The city council", "A regional court", "The transport agency", "The port authority",
           "A local school board"]
    what = ["approved a plan for {n} new homes", "delayed a budget of {n} million euros",
            "announced a tram line of {n} kilometres", "ordered a study of {n} bridges",
            "signed a contract for {n} electric buses"]
    when = ["on Monday", "on Tuesday", "last week", "in March", "after a long debate"]
    return [f"{who[i % 5]} in {city} {what[(i * 3) % 5].format(n=17 * i + 3)} "
            f"{when[(i * 2) % 5]}, officials said."
            for i, city in enumerate(cities * 4)]


def test_mt5_briefs_covered_languages_in_their_own(
    family_dirs: dict[str, Path], make_settings: Callable[..., Settings]
) -> None:
    """With BRIEFING_MODEL_LANGUAGES listing what an XLSum-class model covers, a French
    article goes to the model as it is (no English instruction) and gets no warning."""
    settings = _settings(make_settings, family_dirs["mt5"], runtime="ctranslate2",
                         model_languages="en,fr,ru")
    with TestClient(create_app(settings)) as client:
        body = client.post("/v1/briefings", json={"text": FRENCH}).json()
    assert body["model_family"] == "mt5" and body["input"]["language"] == "fr"
    assert not any("meant for" in w for w in body.get("warnings") or [])
    assert all(p.template == "{text}" for p in load_prompts(family="mt5").prompts.values())
    # A language it does not list is still briefed, with the warning it always had.
    english_only = _settings(make_settings, family_dirs["mt5"], runtime="ctranslate2")
    with TestClient(create_app(english_only)) as client:
        body = client.post("/v1/briefings", json={"text": FRENCH}).json()
    assert any("meant for" in w for w in body["warnings"])
