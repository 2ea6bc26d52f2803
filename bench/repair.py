"""Measure the repair of unsupported facts (``service/checks/repair.py``) on the checker's
eval data: what a seq2seq briefing would deliver with ``BRIEFING_UNSUPPORTED=flag`` (before)
and with the repair (after: each flagged sentence dropped, or replaced by the article's
closest sentence), and what the repair costs faithful summaries.

Run by hand: ``nice .venv/bin/python bench/repair.py [--seed S] [--examples N]``.

1. FRANK (``frank_factuality.jsonl``, human labels on system summaries, joined to their
   articles in ``summ_refs_news.jsonl``). Unfaithful with a number/name error: factuality < 1
   and an entity error (``EntE`` < 1: a wrong name, number or other argument); also reported
   with circumstance errors (``CircE``: time, date, place). The labels are per summary (the
   share of its sentences with the error), not per sentence, so after repair a summary is
   "still delivered with the error" for sure when the checker flagged none of its sentences,
   and "possibly" when it flagged fewer sentences than the humans marked.
   False repairs: summaries the humans marked fully faithful (factuality 1.0) that the repair
   changes, and their sentences dropped or replaced.
2. Injected errors (the checker bench's, ``bench/quality_checker.py``): a number or a name in
   a reference summary sentence swapped for one the article lacks. Before: every such summary
   delivers the injected value; after: those whose swapped sentence is still in the
   repaired text.
   False repairs: untouched reference summaries the repair changes.

Reads ``../shared/eval`` (or ``$BRIEFING_EVAL_DIR``) at run time and copies nothing from it.
The held-out files there (qags, summeval) are not read.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evaldata import eval_dir, read_jsonl  # noqa: E402
from bench.quality_checker import (  # noqa: E402
    article_numbers,
    case_map,
    name_spans,
    never_lower,
    number_mentions,
    prepare_summary,
    swap_number,
    tokens_of,
)
from service.checks import SourceFacts, _split_sentences, find_unsupported  # noqa: E402
from service.checks.repair import MIN_SIMILARITY, repair_text  # noqa: E402
from service.preprocess import split_sentences  # noqa: E402

MODES = ("drop", "replace")


class Source:
    """One article's facts and sentences, computed once."""

    def __init__(self, article: str) -> None:
        self.article = article
        self.facts = SourceFacts.from_text(article)
        self.sentences = split_sentences(article)
        self.cases = case_map(article)


def repaired(summary: str, source: Source, mode: str, min_similarity: float) -> tuple[str, list]:
    found = find_unsupported(summary, source.article, facts=source.facts)
    if not found:
        return summary, []
    return repair_text(summary, source.article, found, source_sentences=source.sentences,
                       facts=source.facts, replace=mode == "replace",
                       min_similarity=min_similarity)


def pct(n: int, d: int) -> str:
    return f"{n}/{d} = {n / d:.1%}" if d else "n/a"


def bench_frank(root: Path, sources: dict[str, Source], min_similarity: float,
                examples: int) -> None:
    rows = read_jsonl(root / "frank_factuality.jsonl")
    groups = {
        "EntE (number/name)": lambda r: r["factuality"] < 1 and r["error_scores"]["EntE"] < 1,
        "EntE or CircE": lambda r: r["factuality"] < 1 and (
            r["error_scores"]["EntE"] < 1 or r["error_scores"]["CircE"] < 1),
        "any error": lambda r: r["factuality"] < 1,
    }
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    faithful: collections.Counter = collections.Counter()
    shown = 0
    for row in rows:
        source = sources[row["doc_id"]]
        summary = prepare_summary(row["summary"], source.article, source.cases)
        sentences = _split_sentences(summary)
        found = find_unsupported(summary, source.article, facts=source.facts)
        flagged = len(found)
        outs = {mode: repaired(summary, source, mode, min_similarity) for mode in MODES}
        if row["factuality"] == 1.0:
            faithful["n"] += 1
            faithful["sentences"] += len(sentences)
            faithful["changed"] += bool(found)
            faithful["flagged_sentences"] += flagged
            for mode, (text, done) in outs.items():
                faithful[f"{mode}_dropped"] += sum(d.action == "dropped" for d in done)
                faithful[f"{mode}_replaced"] += sum(d.action == "replaced" for d in done)
                faithful[f"{mode}_emptied"] += bool(found) and not text.strip()
            if examples and found and shown < examples:
                shown += 1
                print(f"  [false repair {row['id']}] {[f.as_dict() for f in found]}")
            continue
        for name, member in groups.items():
            if not member(row):
                continue
            # the share of its sentences the humans marked with such an error
            scores = row["error_scores"]
            share = 1 - {"EntE (number/name)": scores["EntE"],
                         "EntE or CircE": min(scores["EntE"], scores["CircE"]),
                         "any error": row["factuality"]}[name]
            marked = max(1, round(share * len(sentences)))
            for key in (name, f"{name} / {row['dataset']}"):
                s = stats[key]
                s["n"] += 1
                s["caught"] += bool(found)
                s["after_sure"] += not found
                s["after_possible"] += bool(found) and flagged < marked
                for mode, (text, done) in outs.items():
                    s[f"{mode}_emptied"] += bool(found) and not text.strip()
                    s[f"{mode}_replaced"] += sum(d.action == "replaced" for d in done)
    print(f"\n== FRANK: {len(rows)} system summaries with human labels; repair = each flagged "
          f"sentence dropped, or replaced by the article's closest (cosine >= {min_similarity})")
    print(f"{'unfaithful, with':<28}{'n':>5}{'caught by the checker':>24}"
          f"{'delivered with it: before':>28}{'after (sure)':>18}{'after (at most)':>18}")
    for key in sorted(stats, key=lambda k: (k.split(" / ")[0], k)):
        s = stats[key]
        print(f"{key:<28}{s['n']:>5}{pct(s['caught'], s['n']):>24}{pct(s['n'], s['n']):>28}"
              f"{pct(s['after_sure'], s['n']):>18}"
              f"{pct(s['after_sure'] + s['after_possible'], s['n']):>18}")
    print("  before: flag delivers every summary as written; after: a summary none of whose "
          "sentences the checker flagged still carries its error (sure); one with fewer "
          "flagged sentences than the humans marked may (at most)")
    for key in sorted(stats):
        if " / " in key:
            continue
        s = stats[key]
        print(f"  {key}: emptied by drop {s['drop_emptied']}, by replace "
              f"{s['replace_emptied']}; sentences replaced {s['replace_replaced']}")
    f = faithful
    print(f"\n  faithful (factuality 1.0): {f['n']} summaries, {f['sentences']} sentences")
    print(f"  false repairs: {pct(f['changed'], f['n'])} summaries changed, "
          f"{pct(f['flagged_sentences'], f['sentences'])} sentences; drop: "
          f"{f['drop_dropped']} dropped, {f['drop_emptied']} summaries emptied; replace: "
          f"{f['replace_replaced']} replaced by the article's sentence, "
          f"{f['replace_dropped']} dropped, {f['replace_emptied']} emptied")


def bench_injected(refs: list[dict], sources: dict[str, Source], rng: random.Random,
                   min_similarity: float) -> None:
    prepared = []
    for row in refs:
        source = sources[row["id"]]
        prepared.append((row, source, prepare_summary(row["summary"], row["article"],
                                                      source.cases)))
    pool: list[tuple[str, str]] = []
    for row, source, summary in prepared:
        for sentence in _split_sentences(summary):
            for start, _, name in name_spans(sentence, source.cases):
                if start > 0 and never_lower(name, row["article"]):
                    pool.append((row["id"], name))
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row, source, summary in prepared:
        article = row["article"]
        present = article_numbers(article)
        article_tokens = tokens_of(article)
        sentences = _split_sentences(summary)
        clean = stats["clean"]
        clean["n"] += 1
        clean["sentences"] += len(sentences)
        for mode in MODES:
            text, done = repaired(summary, source, mode, min_similarity)
            clean[f"{mode}_changed"] += bool(done)
            clean[f"{mode}_dropped"] += sum(d.action == "dropped" for d in done)
            clean[f"{mode}_replaced"] += sum(d.action == "replaced" for d in done)
        for index, sentence in enumerate(sentences):
            swaps: list[tuple[str, str]] = []
            mentions = number_mentions(sentence)
            if mentions:
                start, end, old = rng.choice(mentions)
                new = swap_number(old, present, rng)
                if new is not None:
                    swaps.append(("number", sentence[:start] + new + sentence[end:]
                                  + "\x00" + new))
            names = [n for n in name_spans(sentence, source.cases)
                     if tokens_of(n[2]) <= article_tokens and never_lower(n[2], article)]
            if names:
                start, end, old = rng.choice(names)
                options = [n for rid, n in pool
                           if rid != row["id"] and not tokens_of(n) & article_tokens]
                width = len(old.split())
                same = [n for n in options if len(n.split()) == width]
                if options:
                    new = rng.choice(same or options)
                    swaps.append(("name", sentence[:start] + new + sentence[end:] + "\x00" + new))
            for kind, packed in swaps:
                swapped, new = packed.split("\x00")
                whole = " ".join([*sentences[:index], swapped, *sentences[index + 1:]])
                s = stats[f"{kind} / {row['dataset']}"]
                s["n"] += 1
                for mode in MODES:
                    text, done = repaired(whole, source, mode, min_similarity)
                    s["caught"] += mode == "drop" and bool(done)
                    s[f"{mode}_after"] += swapped in text  # the injected sentence is kept
                    s[f"{mode}_lost"] += sum(1 for x in sentences if x != sentence
                                             and x not in text)
    print("\n== Injected errors in reference summaries: delivered with the injected value")
    print(f"{'swap':<18}{'n':>5}{'before':>20}{'after drop':>20}{'after replace':>20}"
          f"{'other sentences lost (drop)':>30}")
    for key in sorted(k for k in stats if k != "clean"):
        s = stats[key]
        print(f"{key:<18}{s['n']:>5}{pct(s['n'], s['n']):>20}{pct(s['drop_after'], s['n']):>20}"
              f"{pct(s['replace_after'], s['n']):>20}{s['drop_lost']:>30}")
    c = stats["clean"]
    print(f"  untouched references: {c['n']} summaries, {c['sentences']} sentences; false "
          f"repairs: drop changes {pct(c['drop_changed'], c['n'])} ({c['drop_dropped']} "
          f"sentences dropped); replace changes {pct(c['replace_changed'], c['n'])} "
          f"({c['replace_replaced']} replaced, {c['replace_dropped']} dropped)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--examples", type=int, default=0)
    parser.add_argument("--min-similarity", type=float, default=MIN_SIMILARITY)
    args = parser.parse_args()
    root = eval_dir()
    needed = [root / "frank_factuality.jsonl", root / "summ_refs_news.jsonl"]
    if not all(p.is_file() for p in needed):
        print(f"evaluation data not found under {root} (set BRIEFING_EVAL_DIR); nothing measured")
        return 0
    started = time.perf_counter()
    refs = read_jsonl(root / "summ_refs_news.jsonl")
    sources = {row["id"]: Source(row["article"]) for row in refs}
    bench_frank(root, sources, args.min_similarity, args.examples)
    bench_injected(refs, sources, random.Random(args.seed), args.min_similarity)
    print(f"\n({time.perf_counter() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
