"""Runtimes behind the seq2seq engine: CTranslate2 matches torch, converts once, falls back.

Parity runs on two tiny models through the production loader: the session's tiny T5 (tied
embeddings) and a "sharp" variant with its own lm_head (untied, like flan-t5), weights scaled
so greedy output varies, and an end-of-sequence row that fires mid-output, so stopping and
``min_new_tokens`` are compared too. Both runtimes get the same token ids from ``prepare``.

Beam search is equal only while the end token plays no part (checked by hand, not here):
transformers masks it under ``min_new_tokens`` after the log-softmax and CTranslate2 before,
and they length-normalize finished beams differently, so beams are ranked differently.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.config import Settings
from service.engines import ctranslate2_runtime
from service.engines.base import GenerationRequest
from service.engines.seq2seq import Seq2SeqEngine, directory_revision, load_seq2seq
from service.engines.text_tokenizer import FastTokenizer
from service.errors import ModelUnavailable
from service.prompts import GenerationSettings, Prompt, load_prompts
from tests.conftest import SEED_ARTICLE

pytest.importorskip("ctranslate2")

PROMPTS = load_prompts()
TEXTS = [p for p in SEED_ARTICLE.split("\n\n") if p.strip()][:5] + [
    "Prices rose 4.2 percent in March — the fastest pace since 1991, officials said.",
    "Ünïcödé: naïve café, “quotes”, 2,000 km… and an emoji 🙂 at the end",
]
GREEDY = [
    GenerationSettings(max_new_tokens=24),
    GenerationSettings(max_new_tokens=24, min_new_tokens=6),
    GenerationSettings(max_new_tokens=24, no_repeat_ngram_size=3),
]


def _prompt(settings: GenerationSettings) -> Prompt:
    return Prompt("short", PROMPTS["short"].template, settings)


def _engine(settings: Settings) -> Seq2SeqEngine:
    return load_seq2seq(settings, PROMPTS)


@pytest.fixture(scope="module")
def sharp_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    directory = tmp_path_factory.mktemp("sharp-t5")
    for path in tiny_model_dir.iterdir():
        if path.name.startswith(("spiece", "tokenizer")):
            shutil.copy(path, directory)
    config = T5Config.from_pretrained(tiny_model_dir, tie_word_embeddings=False)
    torch.manual_seed(1)
    model = T5ForConditionalGeneration(config).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    with torch.no_grad():
        # flan-t5's layout: one shared input embedding, an lm_head of its own.
        model.encoder.embed_tokens.weight = model.shared.weight
        model.decoder.embed_tokens.weight = model.shared.weight
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight))
        for parameter in model.parameters():
            parameter.mul_(3.0)
        # </s> (id 1) takes over the row of a token greedy output often picks after its
        # first few steps, so outputs end early, at varied steps.
        seen: Counter[int] = Counter()
        for text in TEXTS:
            ids = torch.tensor([tokenizer(text)["input_ids"]])
            seen.update(set(model.generate(ids, max_new_tokens=24, do_sample=False)[0, 4:]
                            .tolist()))
        model.lm_head.weight[1] = model.lm_head.weight[seen.most_common(1)[0][0]] * 1.05
    model.config.tie_word_embeddings = False
    model.save_pretrained(directory)
    return directory


@pytest.fixture(params=["tiny", "sharp"])
def model_dir(request: pytest.FixtureRequest, tiny_model_dir: Path) -> Path:
    if request.param == "tiny":
        return tiny_model_dir
    return Path(request.getfixturevalue("sharp_model_dir"))


def test_ctranslate2_float32_greedy_equals_torch_token_for_token(
    make_settings: Callable[..., Settings], model_dir: Path
) -> None:
    torch_engine = _engine(make_settings(engine="seq2seq", model=str(model_dir),
                                         runtime="torch"))
    ct2_engine = _engine(make_settings(engine="seq2seq", model=str(model_dir),
                                       runtime="ctranslate2", quantization="float32"))
    assert torch_engine.runtime.name == "torch"
    assert ct2_engine.runtime.name == "ctranslate2-float32"
    lengths = set()
    # The tiny model's output is one token repeated: one setting shows the tied layout agrees.
    for settings in GREEDY if model_dir.name.startswith("sharp") else GREEDY[:1]:
        requests = [GenerationRequest(text, _prompt(settings)) for text in TEXTS]
        prepared = [torch_engine.prepare(r) for r in requests]
        assert [ct2_engine.prepare(r) for r in requests] == prepared  # same token ids in
        # One padded batch of different lengths, as the batcher sends them.
        expected = torch_engine.run(prepared)
        assert ct2_engine.run(prepared) == expected
        assert ct2_engine.decode(expected) == torch_engine.decode(expected)
        lengths.update(len(ids) for ids in expected)
        if settings.min_new_tokens:
            assert min(len(ids) for ids in expected) >= settings.min_new_tokens
    if model_dir.name.startswith("sharp"):
        # The comparison means something: outputs stop early at several lengths.
        assert len(lengths) >= 3 and min(lengths) < 24


def test_inputs_longer_than_1024_tokens_are_not_cut(
    make_settings: Callable[..., Settings], sharp_model_dir: Path
) -> None:
    """CTranslate2 cuts at 1024 tokens by default, silently; the window is passed instead."""
    model = str(sharp_model_dir)
    torch_engine = _engine(make_settings(engine="seq2seq", model=model, runtime="torch",
                                         max_input_tokens=3000))
    ct2_engine = _engine(make_settings(engine="seq2seq", model=model, runtime="ctranslate2",
                                       quantization="float32", max_input_tokens=3000))
    settings = GenerationSettings(max_new_tokens=8)
    head = " ".join(TEXTS[:5])
    long_text = (head + " ") * (1 + 1100 // torch_engine.count_tokens(head))
    short_ids = torch_engine.prepare(GenerationRequest(long_text, _prompt(settings)))
    assert len(short_ids.ids) > 1100
    # Only the tail differs; if it were cut, both inputs would give one output.
    other = torch_engine.prepare(GenerationRequest(long_text + " Storms hit Oslo.",
                                                   _prompt(settings)))
    assert ct2_engine.run([short_ids, other]) == torch_engine.run([short_ids, other])
    with pytest.raises(Exception, match="exceeds the window"):
        ct2_engine.runtime.generate_ids([list(range(3, 3004))], settings)


@pytest.mark.parametrize("runtime", ["torch", "ctranslate2"])
def test_tokenizers_match_transformers(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, runtime: str
) -> None:
    """Both runtimes tokenize with the stateless FastTokenizer: from the converted model's
    tokenizer.json (CTranslate2) or transformers' own backend (torch)."""
    from transformers import AutoTokenizer

    engine = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                   runtime=runtime))
    fast = engine.tokenizer
    assert isinstance(fast, FastTokenizer)
    reference = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    for text in [*TEXTS, "", "  spaces  ", "don't , isn't ."]:
        assert fast.encode(text) == reference(text)["input_ids"]
        assert fast.encode(text, special=False) == reference(
            text, add_special_tokens=False)["input_ids"]
        assert fast.encode(text, max_length=12) == reference(
            text, truncation=True, max_length=12)["input_ids"]
        ids = reference(text)["input_ids"] + [0, 0]
        assert fast.decode(ids) == reference.decode(ids, skip_special_tokens=True)


def test_concurrent_tokenizing_with_different_limits_does_not_race(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    """prepare() (cut to the window) runs in many request threads next to count_tokens()
    (uncut); transformers' own call would flip the shared truncation state between them."""
    engine = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                   runtime="torch"))
    text = " ".join(TEXTS) * 3
    cut, whole = engine.tokenizer.encode(text, max_length=40), engine.count_tokens(text)

    def work(n: int) -> bool:
        if n % 2:
            return engine.tokenizer.encode(text, max_length=40) == cut
        return engine.count_tokens(text) == whole

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(400)))


def test_conversion_is_cached_by_fingerprint(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir), runtime="ctranslate2")
    engine = _engine(settings)
    target = ctranslate2_runtime.converted_dir(
        settings.data_dir, directory_revision(tiny_model_dir), "int8"
    )
    assert engine.runtime.directory == target
    assert (target / ctranslate2_runtime.MARKER).is_file()
    assert not list(target.parent.glob(".*partial"))

    def no_conversion(*args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(ctranslate2_runtime, "convert", no_conversion)
    monkeypatch.setattr(ctranslate2_runtime, "_convert_in_child", no_conversion)
    again = _engine(settings)
    assert again.runtime.directory == target
    # Another quantization is another conversion.
    with pytest.raises(ModelUnavailable, match="converted again"):
        _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                              runtime="ctranslate2", quantization="float32"))


def test_a_slow_first_conversion_falls_back_to_torch_within_the_load_budget(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch, caplog
) -> None:
    budgets: list[float] = []

    def too_slow(source: Path, target: Path, quantization: str, *, timeout_s: float) -> Path:
        budgets.append(timeout_s)
        raise ModelUnavailable(f"converting {source} to CTranslate2 took longer than "
                               f"{timeout_s:g}s")

    monkeypatch.setattr(ctranslate2_runtime, "ensure_converted", too_slow)
    caplog.set_level(logging.WARNING)
    engine = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                   runtime="auto", model_load_timeout_s=30))
    assert engine.runtime.name == "torch" and budgets == [15.0]
    assert "service.engines.ctranslate2_runtime prepare" in caplog.text
    # Asked for by name, CTranslate2 gets the whole budget and its failure is the answer.
    with pytest.raises(ModelUnavailable, match="took longer than 30s"):
        _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                              runtime="ctranslate2", model_load_timeout_s=30))


def test_conversion_in_a_child_process(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A server that has not imported torch converts in a child process."""
    target = tmp_path / "converted"
    ctranslate2_runtime._convert_in_child(tiny_model_dir, target, "int8", timeout_s=120)
    assert (target / "model.bin").is_file() and (target / "tokenizer.json").is_file()
    with pytest.raises(ModelUnavailable, match="failed"):
        ctranslate2_runtime._convert_in_child(tmp_path / "missing", tmp_path / "x", "int8",
                                              timeout_s=120)


def test_auto_prefers_ctranslate2_and_falls_back_to_torch(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch, caplog
) -> None:
    settings = make_settings(engine="seq2seq", model=str(tiny_model_dir))
    assert settings.runtime == "auto"
    assert _engine(settings).runtime.name == "ctranslate2-int8"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unsupported architecture")

    monkeypatch.setattr(ctranslate2_runtime, "load", broken)
    with caplog.at_level(logging.WARNING):
        engine = _engine(settings)
    assert engine.runtime.name == "torch"
    assert "unsupported architecture" in caplog.text
    assert engine.generate([GenerationRequest("Rain in Oslo.", PROMPTS["short"])])[0]


def test_ctranslate2_runs_parallel_batches_on_shares_of_the_threads(
    make_settings: Callable[..., Settings], tiny_model_dir: Path
) -> None:
    two = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                runtime="ctranslate2", torch_threads=2, parallel_batches=2))
    assert two.parallel == 2 and two.runtime.translator.num_translators == 2
    one = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                runtime="ctranslate2", torch_threads=2))
    assert one.parallel == 1 and one.runtime.translator.num_translators == 1  # the default
    alone = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                  runtime="ctranslate2", torch_threads=1, parallel_batches=2))
    assert alone.parallel == 1  # one thread: one batch at a time
    torch = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                                  runtime="torch", torch_threads=2, parallel_batches=2))
    assert torch.parallel == 1
    request = GenerationRequest("Rain fell in Oslo on Monday.", PROMPTS["short"])
    assert two.generate([request]) == one.generate([request])  # the same output


def test_without_the_ctranslate2_package(
    make_settings: Callable[..., Settings], tiny_model_dir: Path, monkeypatch
) -> None:
    monkeypatch.setattr(ctranslate2_runtime, "available", lambda: False)
    auto = _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir)))
    assert auto.runtime.name == "torch"
    with pytest.raises(ModelUnavailable, match="pip install ctranslate2"):
        _engine(make_settings(engine="seq2seq", model=str(tiny_model_dir),
                              runtime="ctranslate2"))


def test_prepare_converts_the_configured_model_ahead_of_time(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from service.config import get_settings

    monkeypatch.setenv("BRIEFING_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert ctranslate2_runtime._main(["prepare"]) == 0
    finally:
        get_settings.cache_clear()
    target = Path(capsys.readouterr().out.strip())
    assert target.parent == tmp_path / "ctranslate2" and (target / "model.bin").is_file()
    assert ctranslate2_runtime._main(["nonsense"]) == 2
