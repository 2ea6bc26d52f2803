"""Measure the sentence splitter (``service.preprocess.sentences``) against plain pysbd.

Run by hand: ``.venv/bin/python bench/sentences.py``.

1. Golden Rules: exact-match accuracy on pysbd's 48 English rules and pragmatic_segmenter's 52,
   for plain pysbd, ``split_sentences``, and ``split_sentences`` without its glued-boundary
   cuts (to show those cuts do not cost any rule); failing rules are listed.
2. Glued sentences ("community.Dr Venter") in the XSum articles of ``summ_refs_news.jsonl``:
   candidates, how many were cut and which were left whole, and how many adjacent output
   sentences had no space between them in the source, for pysbd and ``split_sentences``.
3. Agreement of ``split_sentences`` with itself as it was before its fast path
   (``sentences.as_before()``: unmodified pysbd asked about every piece whole): the share of
   the articles' paragraphs split into the same sentences, and the ones that differ.
4. Throughput in MB/s on about 1 MB of text made by concatenating the eval articles, now and
   as before, medians of interleaved runs.

Reads ``/work/shared/eval`` (or ``$BRIEFING_EVAL_DIR``) at run time and copies nothing from it.
"""

from __future__ import annotations

import difflib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pysbd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evaldata import eval_dir, read_jsonl  # noqa: E402
from service.preprocess import pysbd_runner  # noqa: E402
from service.preprocess import sentences as splitter  # noqa: E402

Splitter = Callable[[str], list[str]]
RULE_SETS = [
    ("pysbd Golden Rules (48)", "golden_rules_en_pysbd.jsonl"),
    ("pragmatic_segmenter Golden Rules (52)", "golden_rules_en_pragmatic.jsonl"),
]
ARTICLES = "summ_refs_news.jsonl"
TARGET_BYTES = 1_000_000




def plain_pysbd() -> Splitter:
    """pysbd as documented, with the same stripping of sentences as ours."""
    segmenter = pysbd.Segmenter(language="en", clean=False)

    def split(text: str) -> list[str]:
        return [s.strip() for s in segmenter.segment(text) if s.strip()]

    return split


@contextmanager
def without_glued_cuts() -> Iterator[None]:
    """``split_sentences`` with its glued-boundary cuts switched off (ablation only)."""
    original = splitter._split_glued
    splitter._split_glued = lambda unit: [unit]
    try:
        yield
    finally:
        splitter._split_glued = original


def rule_failures(rows: list[dict], split: Splitter) -> list[dict]:
    return [row for row in rows if split(row["text"]) != [s.strip() for s in row["sentences"]]]


def bench_rules(root: Path) -> None:
    pysbd_split = plain_pysbd()
    for title, name in RULE_SETS:
        rows = read_jsonl(root / name)
        print(f"\n== {title}: {name}")
        with without_glued_cuts():
            ablation = rule_failures(rows, splitter.split_sentences)
        results = [
            ("plain pysbd", rule_failures(rows, pysbd_split)),
            ("split_sentences", rule_failures(rows, splitter.split_sentences)),
            ("split_sentences, no glued cuts", ablation),
        ]
        for label, failed in results:
            passed = len(rows) - len(failed)
            print(f"  {label:32s} {passed:2d}/{len(rows)} = {100 * passed / len(rows):6.2f} %")
            for row in failed:
                print(f"      fails rule {row['rule']}: {row['name']}")


def _squash(text: str) -> str:
    return " ".join(text.split())


def glued_pairs(article: str, sentences: list[str]) -> int:
    """Adjacent sentences with no whitespace between them in the source."""
    source = _squash(article)
    return sum(
        _squash(a) + _squash(b) in source for a, b in zip(sentences, sentences[1:], strict=False)
    )


def bench_glued(rows: list[dict]) -> None:
    articles = [row["article"] for row in rows if row.get("dataset") == "xsum"]
    print(f"\n== Glued sentences in {len(articles)} XSum articles")
    candidates = cut = 0
    left_whole: list[str] = []
    for article in articles:
        for unit in splitter._units(article):
            for match in splitter._GLUE.finditer(unit):
                candidates += 1
                quotes = unit.count('"', 0, match.start())
                where = splitter._glued_cut(unit, match, quote_open=quotes % 2 == 1)
                if where is None:
                    left_whole.append(unit[max(0, match.start() - 25) : match.start() + 12])
                else:
                    cut += 1
    print(f"  candidates (. ! or ? then a capitalised word, no space): {candidates}")
    print(f"  cut as sentence boundaries: {cut}; left whole: {len(left_whole)}")
    for context in left_whole:
        print(f"      left whole: ...{context}...")
    for label, split in [
        ("plain pysbd", plain_pysbd()),
        ("split_sentences", splitter.split_sentences),
    ]:
        pairs = sentences = 0
        for article in articles:
            out = split(article)
            sentences += len(out)
            pairs += glued_pairs(article, out)
        print(f"  {label:16s} {sentences:6d} sentences, {pairs:5d} boundaries at glued points")


def bench_agreement(rows: list[dict]) -> None:
    paragraphs = [p for row in rows for p in row["article"].splitlines() if p.strip()]
    now = [splitter.split_sentences(p) for p in paragraphs]
    with splitter.as_before():
        before = [splitter.split_sentences(p) for p in paragraphs]
    differ = [(p, a, b) for p, a, b in zip(paragraphs, now, before, strict=True) if a != b]
    same = len(paragraphs) - len(differ)
    print(f"\n== Agreement with the splitter before its fast path ({len(rows)} articles)")
    print(f"  paragraphs split into the same sentences: {same}/{len(paragraphs)} = "
          f"{same / len(paragraphs):.4f}; sentences now {sum(map(len, now))}, before "
          f"{sum(map(len, before))}")
    for paragraph, a, b in differ[:10]:
        print(f"  differs: {paragraph[:100]!r}...")
        for line in difflib.unified_diff(b, a, "before", "now", lineterm="", n=0):
            if not line.startswith("@@"):
                print(f"      {line[:160]}")


def _median_seconds(split: Splitter, text: str, runs: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(runs):
        pysbd_runner._pysbd_spans.cache_clear()  # no help from an earlier run
        started = time.perf_counter()
        count = len(split(text))
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def bench_speed(rows: list[dict], runs: int = 3) -> None:
    pieces: list[str] = []
    size = 0
    while size < TARGET_BYTES:
        for row in rows:
            pieces.append(row["article"])
            size += len(row["article"].encode()) + 2
            if size >= TARGET_BYTES:
                break
    text = "\n\n".join(pieces)
    megabytes = len(text.encode()) / 1e6
    print(f"\n== Throughput on {megabytes:.2f} MB ({len(pieces)} eval articles, blank-line "
          f"joined; medians of {runs} interleaved runs)")
    ours, before = [], []
    for _ in range(runs):
        ours.append(_median_seconds(splitter.split_sentences, text, 1))
        with splitter.as_before():
            before.append(_median_seconds(splitter.split_sentences, text, 1))
    for label, results in [("split_sentences", ours), ("as before its fast path", before)]:
        seconds = statistics.median(s for s, _ in results)
        print(f"  {label:24s} {seconds:6.2f} s = {megabytes / seconds:.3f} MB/s, "
              f"{results[0][1]} sentences")
    pysbd_split = plain_pysbd()
    started = time.perf_counter()
    count = sum(len(pysbd_split(article)) for article in pieces)
    theirs = time.perf_counter() - started
    print(
        f"  plain pysbd, one article at a time (reference): {theirs:6.2f} s = "
        f"{megabytes / theirs:.3f} MB/s, {count} sentences"
    )


def main() -> int:
    root = eval_dir()
    needed = [root / name for _, name in RULE_SETS] + [root / ARTICLES]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        print(
            f"evaluation data not found under {root} (missing {', '.join(missing)}; "
            "set BRIEFING_EVAL_DIR); nothing measured"
        )
        return 0
    bench_rules(root)
    rows = read_jsonl(root / ARTICLES)
    bench_glued(rows)
    bench_agreement(rows)
    bench_speed(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
