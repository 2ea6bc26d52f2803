"""Issue 4's figures: extractive ROUGE against Lead-3, long-input timing, and the checker.

Run by hand (needs the ``bench`` extra: ``.venv/bin/pip install -e '.[bench]'``):

    .venv/bin/python bench/quality.py                 # everything, ~5 min on 2 busy cores
    .venv/bin/python bench/quality.py --skip-timing --skip-checker     # ROUGE only, ~1 min

1. ROUGE (rouge-score, F1, Porter stemmer) on the 250 CNN/DailyMail rows of
   ``summ_refs_news.jsonl``. Every system sees the same sentences:
   ``split_sentences(preprocess(article).text)``.
   - Lead-3: the first three sentences. Extractive top-3: the engine's three best, in article
     order; the pair compares rankings only, at the same sentence count. An ablation row
     drops the engine's 50-word sentence rule, to separate the ranking's gain from that rule's.
   - What the service returns (``BriefingService`` with the extractive engine, length rules
     and checks applied): ``short`` and ``long``, each next to the lead cut to the same budget
     (a fair baseline at that length, since ROUGE F1 depends on length).
   - The paired difference top-3 minus Lead-3 with a bootstrap 95 % interval, and on each half
     of the rows (the engine's weights were chosen on these rows; a gain found by tuning on
     noise would not hold on both halves).
   References are the highlights, PTB-tokenized (``Locke 's``, ``£ 2,100 .``). They are
   detokenized (clitics, punctuation, brackets, quotes and currency signs rejoined), and cut
   into sentences at their sentence-final ``.``/``?``/``!`` tokens, one per line.
   rouge-score's tokenizer lower-cases and drops punctuation, so detokenizing moves R1/R2/RL
   by at most a few hundredths (printed); the sentence cut is what matters, for ROUGE-Lsum.
   The published Lead-3 "ROUGE-L" (36.67) is summary-level LCS over those lines (ROUGE-1.5.5),
   which rouge-score calls ``rougeLsum``; its ``rougeL`` (one LCS over the whole text) is
   printed too but is not comparable.
2. Timing: one article of N CNN/DM stories back to back (N = 5, 10, 20, 40) through
   ``BriefingService`` with the tiny test model (tests/tiny_model.py), default settings
   otherwise, a fresh data dir per run (every run a cache miss). Medians of --repeats runs of
   wall and CPU time (CPU time is steadier on a shared machine), seconds per 1,000
   characters, and the slope of log(time) against log(characters): 1.0 is linear growth.
   The extractive engine on the same input is printed as the preprocessing floor.
3. bench/quality_checker.py's figures (the faithfulness checker), when that script exists.

Reads ``../shared/eval`` (or ``$BRIEFING_EVAL_DIR``) at run time and copies nothing from it.
The held-out files there (qags, summeval) are not read.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evaldata import eval_dir, read_jsonl  # noqa: E402
from service.config import Settings  # noqa: E402
from service.engines import GenerationRequest  # noqa: E402
from service.engines.extractive import ExtractiveEngine, rank, rank_sentences  # noqa: E402
from service.preprocess import preprocess, split_sentences  # noqa: E402
from service.prompts import load_prompts  # noqa: E402
from service.storage.articles import Article  # noqa: E402
from service.wiring import Wiring  # noqa: E402

PUBLISHED_LEAD3 = (40.42, 17.62, 36.67)  # BART paper (Lewis et al. 2020) Table 3, full test set
METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
Sentences = list[str]



def load_cnndm(root: Path) -> list[dict[str, str]]:
    rows = read_jsonl(root / "summ_refs_news.jsonl")
    return [row for row in rows if row.get("dataset") == "cnndm"]


# -- references ---------------------------------------------------------------------------

_CLITICS = {"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "'"}
_ATTACH_LEFT = {".", ",", ":", ";", "?", "!", "%", "...", ")", "-RRB-", "''"}
_ATTACH_RIGHT = {"$", "£", "€", "#", "(", "-LRB-", "``", "`"}
_SYMBOL = {"-LRB-": "(", "-RRB-": ")", "``": '"', "''": '"', "`": "'"}


def reference_sentences(ptb: str) -> Sentences:
    """The highlight sentences of a PTB-tokenized reference, detokenized."""
    sentences: list[list[str]] = [[]]
    for token in ptb.split():
        sentences[-1].append(token)
        if token in {".", "?", "!"}:
            sentences.append([])
    return [detokenize(tokens) for tokens in sentences if tokens]


def detokenize(tokens: Sequence[str]) -> str:
    """Join PTB tokens as text: ``Locke 's`` → ``Locke's``, ``£ 2,100`` → ``£2,100``."""
    out = ""
    glue_next = False
    for token in tokens:
        left = token in _ATTACH_LEFT or token.lower() in _CLITICS
        out += ("" if not out or left or glue_next else " ") + _SYMBOL.get(token, token)
        glue_next = token in _ATTACH_RIGHT
    return out


# -- ROUGE --------------------------------------------------------------------------------


class Rouge:
    """rouge-score F1 (x100) per document; candidates and references as sentence lists."""

    def __init__(self) -> None:
        try:
            from rouge_score import rouge_scorer
        except ImportError:
            sys.exit("rouge-score is not installed: .venv/bin/pip install -e '.[bench]'")
        self.scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)

    def per_doc(self, refs: Sequence[Sentences], cands: Sequence[Sentences]) -> np.ndarray:
        """Array (docs x 6) of x 100: F1 of each of METRICS, then R1 and R2 recall."""
        rows = []
        for ref, cand in zip(refs, cands, strict=True):
            scores = self.scorer.score("\n".join(ref), "\n".join(cand))
            rows.append([100 * scores[m].fmeasure for m in METRICS]
                        + [100 * scores[m].recall for m in ("rouge1", "rouge2")])
        return np.array(rows)


def lead_within(sentences: Sentences, max_words: int, max_sentences: int | None = None, *,
                fill: bool = False) -> Sentences:
    """Leading sentences that fit the budget: up to the first that overflows, or with
    ``fill``, skipping what overflows for later ones that fit (as the engine does)."""
    kept: Sentences = []
    words = 0
    for sentence in sentences:
        if max_sentences and len(kept) >= max_sentences:
            break
        n = len(sentence.split())
        if words + n > max_words:
            if fill:
                continue
            break
        kept.append(sentence)
        words += n
    return kept or sentences[:1]


def lead_words(sentences: Sentences, n: int) -> Sentences:
    """The article's first ``n`` words, cut mid-sentence if need be: the lead at exactly a
    briefing's length (ROUGE F1 depends on length, so this is the fair baseline)."""
    kept: Sentences = []
    left = n
    for sentence in sentences:
        if left <= 0:
            break
        words = sentence.split()
        kept.append(" ".join(words[:left]))
        left -= len(words)
    return kept


def bootstrap_ci(diffs: np.ndarray, resamples: int = 2000, seed: int = 0
                 ) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, len(diffs), (resamples, len(diffs)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def bench_rouge(rows: list[dict[str, str]]) -> None:
    print(f"== 1. Extractive engine vs Lead-3: ROUGE F1 on {len(rows)} CNN/DM articles ==")
    rouge = Rouge()
    started = time.perf_counter()
    docs = [preprocess(row["article"]) for row in rows]
    units = [split_sentences(doc.text) for doc in docs]
    prep_s = time.perf_counter() - started

    started = time.perf_counter()
    top3 = []
    for sentences in units:
        ranking = rank_sentences(sentences)
        top3.append([sentences[i] for i in sorted(ranking[:3])])
    rank_ms = (time.perf_counter() - started) / len(units) * 1000
    # Ablation: the ranking without the sentence-length rule (run-on sentences allowed).
    uncapped = []
    for sentences in units:
        order = rank(sentences, max_sentence_words=10**9).order
        uncapped.append([sentences[i] for i in sorted(order[:3])])

    # What the service answers: the same request path users get, extractive engine.
    engine = ExtractiveEngine()
    with tempfile.TemporaryDirectory() as tmp:
        wiring = Wiring.open(Settings(engine="extractive", data_dir=Path(tmp)))
        service = wiring.briefing
        try:
            started = time.perf_counter()
            results = [service.brief(Article(text=row["article"])) for row in rows]
            brief_ms = (time.perf_counter() - started) / len(rows) * 1000
        finally:
            wiring.close()
    short = [split_sentences(r["short"]) for r in results]
    long = [split_sentences(r["long"]) for r in results]
    # The engine alone, as the request path calls it: one text, short and long together.
    prompts = load_prompts()
    texts = ["\n\n".join(doc.sentences) for doc in docs]
    engine_ms = []  # best of 3 per article: other work on a shared machine only adds time
    engine_out = []
    for text in texts:
        requests = [GenerationRequest(text, prompts[k]) for k in ("short", "long")]
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            outputs = engine.generate(requests)
            runs.append((time.perf_counter() - started) * 1000)
        engine_out.append(outputs)
        engine_ms.append(min(runs))
    # How often the length rules downstream changed what the engine chose.
    cut = {k: sum(out[j] != result[k] for out, result in zip(engine_out, results, strict=True))
           for j, k in enumerate(("short", "long"))}

    refs = [reference_sentences(row["summary"]) for row in rows]
    lead3 = [s[:3] for s in units]
    systems: list[tuple[str, list[Sentences]]] = [
        ("Lead-3", lead3),
        ("extractive top-3 (same sentences)", top3),
        ("  ablation: top-3 without the 50-word rule", uncapped),
        ("Lead in short budget (2 sent, 50 w), stop", [lead_within(s, 50, 2) for s in units]),
        ("Lead in short budget, fill", [lead_within(s, 50, 2, fill=True) for s in units]),
        ("service short (extractive)", short),
        ("Lead cut to the short's words (each article)",
         [lead_words(s, len(" ".join(b).split())) for s, b in zip(units, short, strict=True)]),
        ("Lead in 200 words, stop", [lead_within(s, 200) for s in units]),
        ("Lead in 200 words, fill", [lead_within(s, 200, fill=True) for s in units]),
        ("service long (extractive)", long),
        ("Lead cut to the long's words (each article)",
         [lead_words(s, len(" ".join(b).split())) for s, b in zip(units, long, strict=True)]),
    ]
    scores = {name: rouge.per_doc(refs, cands) for name, cands in systems}
    words = {name: statistics.mean(len(" ".join(c).split()) for c in cands)
             for name, cands in systems}
    print("F1 x 100; RL* = rougeLsum, comparable to published ROUGE-L; rec = recall")
    print(f"{'system':42s} {'R1':>6s} {'R2':>6s} {'RL*':>6s} {'RL':>6s} {'R1rec':>6s} "
          f"{'R2rec':>6s} {'words':>6s}")
    r1, r2, rl = PUBLISHED_LEAD3
    print(f"{'Lead-3 published (full test set, context)':42s} {r1:6.2f} {r2:6.2f} {rl:6.2f}")
    for name, _ in systems:
        m = scores[name].mean(axis=0)
        print(f"{name:42s} {m[0]:6.2f} {m[1]:6.2f} {m[3]:6.2f} {m[2]:6.2f} {m[4]:6.2f} "
              f"{m[5]:6.2f} {words[name]:6.1f}")
    ref_words = statistics.mean(len(" ".join(r).split()) for r in refs)
    print(f"{'(references)':42s} {'':>41s} {ref_words:6.1f}")

    for kind in ("short", "long"):
        gap = (scores[f"service {kind} (extractive)"]
               - scores[f"Lead cut to the {kind}'s words (each article)"])
        low, high = bootstrap_ci(gap[:, 0])
        print(f"service {kind} minus the lead at its length, R1: {gap[:, 0].mean():+.2f} "
              f"[{low:+.2f}, {high:+.2f}]")

    diff = scores["extractive top-3 (same sentences)"] - scores["Lead-3"]
    print("\nextractive top-3 minus Lead-3, paired, with a bootstrap 95% interval:")
    for k, name in ((0, "R1"), (1, "R2"), (3, "RLsum")):
        low, high = bootstrap_ci(diff[:, k])
        print(f"  {name:6s} {diff[:, k].mean():+.2f}  [{low:+.2f}, {high:+.2f}]")
    half = np.array([int(hashlib.md5(r["id"].encode()).hexdigest(), 16) % 2 for r in rows])
    for h in (0, 1):
        d = diff[half == h].mean(axis=0)
        print(f"  half {'AB'[h]} ({int((half == h).sum())} articles): R1 {d[0]:+.2f}  "
              f"R2 {d[1]:+.2f}  RLsum {d[3]:+.2f}")
    same = sum(a == b for a, b in zip(top3, lead3, strict=True))
    print(f"  top-3 equals Lead-3 on {same} of {len(rows)} articles")

    raw = rouge.per_doc([[row["summary"]] for row in rows], lead3).mean(axis=0)
    detok = rouge.per_doc([[" ".join(r)] for r in refs], lead3).mean(axis=0)
    print("\nreferences as given (PTB tokens) vs detokenized, Lead-3, one line each: "
          f"R1 {detok[0] - raw[0]:+.2f}  R2 {detok[1] - raw[1]:+.2f}  RL {detok[2] - raw[2]:+.2f}")
    print(f"length rules changed the engine's output: short {cut['short']}, long {cut['long']}"
          f" of {len(rows)}")
    print(f"time per article: preprocess+split {prep_s / len(rows) * 1000:.1f} ms, "
          f"rank {rank_ms:.2f} ms, whole extractive request {brief_ms:.1f} ms;\n"
          f"  engine alone, short+long (split, rank, select), best of 3 per article: median "
          f"{statistics.median(engine_ms):.1f} ms, 90th percentile "
          f"{float(np.percentile(engine_ms, 90)):.1f} ms, max {max(engine_ms):.1f} ms\n")


# -- timing -------------------------------------------------------------------------------


def timed_brief(settings: Settings, text: str) -> tuple[float, float, dict, str]:
    """Wall and CPU seconds (all threads of this process) for one cache-miss briefing of
    ``text``, the result, and the runtime used."""
    wiring = Wiring.open(settings)
    service = wiring.briefing
    try:
        inner = getattr(service.engine, "inner", service.engine)
        runtime = type(getattr(inner, "runtime", inner)).__name__
        wall, cpu = time.perf_counter(), time.process_time()
        result = service.brief(Article(text=text))
        return time.perf_counter() - wall, time.process_time() - cpu, result, runtime
    finally:
        wiring.close()


def bench_timing(rows: list[dict[str, str]], sizes: Sequence[int], repeats: int) -> None:
    from transformers.utils import logging as hf_logging

    from tests.tiny_model import build_tiny_t5

    hf_logging.disable_progress_bar()
    print(f"== 2. Time for N stories back to back, tiny model, median of {repeats} ==")
    stories = [row["article"] for row in rows]
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_t5(Path(tmp) / "tiny-t5")
        runs = 0

        def settings(engine: str) -> Settings:
            nonlocal runs
            runs += 1
            return Settings(engine=engine, model=str(model), data_dir=Path(tmp) / f"run{runs}")

        # The first briefing in a process pays one-time costs (kernels, thread pools): not timed.
        timed_brief(settings("seq2seq"), stories[-1])
        table = []
        for n in sizes:
            text = "\n\n".join(stories[:n])
            walls: list[float] = []
            cpus: list[float] = []
            extractive: list[float] = []
            for _ in range(repeats):
                wall, cpu, result, runtime = timed_brief(settings("seq2seq"), text)
                walls.append(wall)
                cpus.append(cpu)
                extractive.append(timed_brief(settings("extractive"), text)[0])
            assert result["short"] and result["long"], "a briefing came back empty"
            table.append((n, len(text), statistics.median(walls), statistics.median(cpus),
                          statistics.median(extractive), result["input"], walls))
        print(f"{'stories':>7s} {'chars':>8s} {'tokens':>7s} {'chunks':>6s} {'rounds':>6s} "
              f"{'dropped':>7s} {'wall s':>7s} {'s/1k ch':>7s} {'cpu s':>7s} {'cpu/1k':>7s} "
              f"{'extr. s':>7s}  wall of each run (s)")
        for n, chars, wall, cpu, extr, info, each in table:
            print(f"{n:7d} {chars:8d} {info['tokens']:7d} {info['chunks']:6d} "
                  f"{info['reduce_rounds']:6d} {info['dropped_chars']:7d} "
                  f"{wall:7.2f} {wall / chars * 1000:7.3f} {cpu:7.2f} {cpu / chars * 1000:7.3f} "
                  f"{extr:7.3f}  " + " ".join(f"{t:.1f}" for t in each))
        print("dropped: characters of partial summaries cut when the reduction reached its depth "
              "bound or stopped shrinking (the tiny model's noise shrinks less than a real "
              "model's summaries); cpu: all threads of this process, less sensitive than wall "
              "time to other work on the machine")
    if len(table) > 1:
        x = np.log([row[1] for row in table])
        for column, label in ((2, "wall"), (3, "cpu")):
            slope = float(np.polyfit(x, np.log([row[column] for row in table]), 1)[0])
            first, last = table[0], table[-1]
            ratio = (last[column] / last[1]) / (first[column] / first[1])
            print(f"growth ({label}): time ~ chars^{slope:.2f} (1.00 = linear); per 1k chars "
                  f"at {last[0]} stories / at {first[0]}: {ratio:.2f}")
    print(f"seq2seq runtime: {runtime}; tokens, chunks and rounds are the tiny model's (its "
          "256-piece vocabulary makes ~0.6 tokens per character)\n")


# -- checker ------------------------------------------------------------------------------


def bench_checker() -> None:
    path = ROOT / "bench" / "quality_checker.py"
    if not path.is_file():
        print("== 3. Faithfulness checker: bench/quality_checker.py not found; skipped ==")
        return
    print("== 3. Faithfulness checker (bench/quality_checker.py) ==", flush=True)
    spec = importlib.util.spec_from_file_location("quality_checker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = sys.argv
    sys.argv = [str(path)]  # its own defaults, not this script's arguments
    try:
        main: Callable[[], int] = module.main
        main()
    finally:
        sys.argv = argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10,20,40", help="stories per timed article")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per size (median)")
    parser.add_argument("--skip-rouge", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-checker", action="store_true")
    args = parser.parse_args()
    root = eval_dir()
    if not (root / "summ_refs_news.jsonl").is_file():
        print(f"evaluation data not found under {root} (set BRIEFING_EVAL_DIR); nothing measured")
        return 0
    rows = load_cnndm(root)
    if not args.skip_rouge:
        bench_rouge(rows)
    if not args.skip_timing:
        sizes = [int(n) for n in args.sizes.split(",")]
        if max(sizes) > len(rows):
            sys.exit(f"only {len(rows)} stories available")
        bench_timing(rows, sizes, args.repeats)
    if not args.skip_checker:
        bench_checker()
    return 0


if __name__ == "__main__":
    sys.exit(main())
