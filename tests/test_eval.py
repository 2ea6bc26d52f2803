"""``briefing eval`` (issue 23, item 3): ROUGE that rouge-score itself agrees with.

The rows are written here (our own field names, CNN/DailyMail's and XSum's); the briefings
are computed again through the request path and scored with rouge-score directly.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from service import cli
from service.config import Settings
from service.errors import BriefingError
from service.evaluate import System, read_rows, systems_from
from service.preprocess import split_sentences
from service.storage.articles import Article
from service.wiring import Wiring

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

ROWS = [
    {"article": "The city council of Drammel voted on Tuesday to turn the old tram depot on "
     "Dock Street into a covered market with sixty stalls. Construction starts in June and is "
     "expected to cost 12 million euros. The mayor said the market would open in spring 2027. "
     "Traders who sell at the weekly street market will get the first stalls. Residents near "
     "Dock Street asked for limits on delivery traffic.",
     "summary": "Drammel will turn its old tram depot into a covered market with sixty stalls "
     "for 12 million euros."},
    {"article": "Heavy rain flooded roads across the north of the region on Sunday night, and "
     "emergency crews rescued twelve people from cars caught in the water. The weather service "
     "said more than 80 millimetres fell in six hours, the most since 1998. Two schools stayed "
     "closed on Monday while engineers checked a bridge over the river. Trains between the two "
     "largest towns ran again by the afternoon.",
     "highlights": "Twelve people rescued as floods hit the north .\nMore than 80 mm of rain "
     "fell in six hours, the most since 1998 ."},
    {"document": "The company reported a 15% rise in profit for the first quarter on Thursday, "
     "beating what analysts had expected. Sales grew fastest in Asia, where the firm opened 40 "
     "new shops last year. The chief executive said prices of raw materials had fallen since "
     "the winter. Shares rose 6% in early trading. The firm plans to hire 2,000 people.",
     "summary": "Profits at the company rose 15% in the first quarter, helped by sales in "
     "Asia."},
]


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return path


def _lines(text: str) -> str:
    return "\n".join(s.strip() for s in split_sentences(text) if s.strip())


def test_extractive_rouge_matches_rouge_score(
    rows_file: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(engine="extractive")
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["eval", str(rows_file), "--engine", "extractive", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert (result["engine"], result["model"], result["rows"]) == ("extractive", "", 3)
    assert result["fallbacks"] == 0 and result["latency_p50_ms"] > 0

    # The same briefings, scored here with rouge-score on its own.
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    wiring = Wiring(settings)
    try:
        expected: dict[str, dict[str, list[float]]] = {"short": {}, "long": {}}
        for row in ROWS:
            article = row.get("article") or row["document"]
            reference = row.get("summary") or row["highlights"]
            briefing = wiring.briefing.brief(Article(text=article), store=False)
            for kind in ("short", "long"):
                text = briefing[kind]
                plain = scorer.score(reference, text)
                lsum = scorer.score(_lines(reference), _lines(text))["rougeLsum"]
                n = len(text.split())
                lead = scorer.score(reference, " ".join(article.split()[:n]))["rouge1"]
                for name, value in (("rouge1", plain["rouge1"].fmeasure),
                                    ("rouge2", plain["rouge2"].fmeasure),
                                    ("rougeLsum", lsum.fmeasure),
                                    ("lead_rouge1", lead.fmeasure), ("words", n / 100)):
                    expected[kind].setdefault(name, []).append(100 * value)
    finally:
        wiring.close()
    for kind in ("short", "long"):
        for name, values in expected[kind].items():
            assert result[kind][name] == pytest.approx(statistics.fmean(values), abs=0.01), (
                kind, name)
        assert result[kind]["unsupported_share"] == 0.0
        assert 0 < result[kind]["rouge2"] < result[kind]["rouge1"] <= 100


def test_rows_by_their_field_names(tmp_path: Path, rows_file: Path) -> None:
    rows = read_rows(rows_file)
    assert [r.reference[:12] for r in rows] == ["Drammel will", "Twelve peopl", "Profits at t"]
    assert len(read_rows(rows_file, limit=2)) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "an article", "abstract": "a summary"}\n', encoding="utf-8")
    with pytest.raises(BriefingError, match=r"bad.jsonl:1: .*article and highlights"):
        read_rows(bad)
    tagged = tmp_path / "tagged.jsonl"
    tagged.write_text("\n".join(json.dumps({**ROWS[0], "dataset": d})
                                for d in ("cnndm", "xsum", "xsum")), encoding="utf-8")
    assert len(read_rows(tagged, dataset="xsum")) == 2


def test_engines_and_models_in_the_order_given() -> None:
    given = [("engine", "extractive"), ("engine", "seq2seq"), ("model", "/m/bart"),
             ("model", "/m/pegasus")]
    assert systems_from(given) == [System("extractive"), System("seq2seq", "/m/bart"),
                                   System("seq2seq", "/m/pegasus")]
    assert systems_from([("model", "/m/a"), ("engine", "seq2seq")]) == [
        System("seq2seq", "/m/a"), System("seq2seq")]


def test_engines_side_by_side_in_one_table(
    rows_file: Path, make_settings: Callable[..., Settings], tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(engine="extractive", runtime="ctranslate2")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["eval", str(rows_file), "--limit", "1", "--engine", "extractive",
                     "--model", str(tiny_model_dir)]) == 0
    captured = capsys.readouterr()
    table = captured.out.splitlines()
    assert table[0].split()[:4] == ["engine", "model", "briefing", "ROUGE-1"]
    assert [line.split()[:3] for line in table[1:]] == [
        ["extractive", "-", "short"], ["extractive", "-", "long"],
        ["seq2seq", str(tiny_model_dir), "short"], ["seq2seq", str(tiny_model_dir), "long"]]
    assert f"seq2seq {tiny_model_dir}: 1 rows" in captured.err  # progress, not a terminal
