"""Measure the faithfulness checker (``service.checks``) on labelled and injected data.

Run by hand: ``.venv/bin/python bench/quality_checker.py [--examples N] [--seed S]``.

1. FRANK (``frank_factuality.jsonl`` joined to its articles in ``summ_refs_news.jsonl``):
   precision and recall of "has unsupported content" against the human label
   (factual = factuality 1.0, else not factual).
2. Injected errors on the reference summaries of ``summ_refs_news.jsonl``: a number in a reference
   sentence swapped for one absent from the article, a name swapped for a name from another
   article, and the untouched sentences (false alarms). Reported per dataset.

Reads ``/work/shared/eval`` (or ``$BRIEFING_EVAL_DIR``) at run time and copies nothing from it.
The held-out files there are not read.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evaldata import eval_dir, read_jsonl  # noqa: E402
from service.checks import SourceFacts, _split_sentences, find_unsupported  # noqa: E402
from service.checks.vocabulary import _TENS, _UNITS  # noqa: E402

# --------------------------------------------------------------------------------------------
# Making the tokenized / lower-cased reference texts look like model output
# --------------------------------------------------------------------------------------------

_DETOK = [
    (re.compile(r"-lrb-\s*", re.I), "("),
    (re.compile(r"\s*-rrb-", re.I), ")"),
    (re.compile(r"``\s*|\s*''"), '"'),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m|')(?=\s|$|[.,;:!?])", re.I), r"\1"),
    (re.compile(r"\s+([.,;:!?%)])"), r"\1"),
    (re.compile(r"([(])\s+"), r"\1"),
    (re.compile(r"([$£€#])\s+(?=\d)"), r"\1"),
    (re.compile(r"(?<=\d)\s+(m|bn|k)\b"), r"\1"),
    (re.compile(r"#(?=\d)"), "£"),
    (re.compile(r"(?<=\d), (?=\d{3}\b)"), ","),
    (re.compile(r"`\s*"), "'"),
    (re.compile(r"\[UNK\]"), "UNK"),
]

_ALWAYS_CAPITAL = set(
    "monday tuesday wednesday thursday friday saturday sunday january february april june "
    "july august september october november december".split()
)


def detokenize(text: str) -> str:
    """Undo PTB-style tokenization: ``Locke 's`` -> ``Locke's``, ``£ 5`` -> ``£5``."""
    for pattern, repl in _DETOK:
        text = pattern.sub(repl, text)
    return re.sub(r"\s{2,}", " ", text).strip()


def case_map(article: str) -> dict[str, str]:
    """The usual mid-sentence casing of each word in ``article`` (lower-case key)."""
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for m in re.finditer(r"[A-Za-z][\w'-]*", article):
        before = article[max(0, m.start() - 3) : m.start()]
        if re.search(r"[.!?\"]\s*$", before) or m.start() == 0:
            continue
        counts[m.group(0).lower()][m.group(0)] += 1
    return {k: c.most_common(1)[0][0] for k, c in counts.items()}


def truecase(text: str, cases: dict[str, str]) -> str:
    """Recase a lower-cased summary using the article's casing; capitalize sentence starts."""

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in _ALWAYS_CAPITAL:
            return w.capitalize()
        if w == "i":
            return "I"
        return cases.get(w, w)

    text = re.sub(r"[a-z][\w'-]*", word, text)
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def prepare_summary(summary: str, article: str, cases: dict[str, str] | None = None) -> str:
    text = detokenize(summary)
    if text == text.lower():
        text = truecase(text, cases if cases is not None else case_map(article))
    return text


# --------------------------------------------------------------------------------------------
# 1. FRANK
# --------------------------------------------------------------------------------------------


def prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def bench_frank(root: Path, articles: dict[str, str], examples: int) -> None:
    rows = read_jsonl(root / "frank_factuality.jsonl")
    groups: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    shown = collections.Counter()
    facts_cache: dict[str, SourceFacts] = {}
    cases_cache: dict[str, dict[str, str]] = {}
    started = time.perf_counter()
    for row in rows:
        article = articles[row["doc_id"]]
        if row["doc_id"] not in facts_cache:
            facts_cache[row["doc_id"]] = SourceFacts.from_text(article)
            cases_cache[row["doc_id"]] = case_map(article)
        plain = detokenize(row["summary"]).replace("UNK", "")
        cased = plain != plain.lower()
        summary = prepare_summary(row["summary"], article, cases_cache[row["doc_id"]])
        flags = find_unsupported(summary, article, facts=facts_cache[row["doc_id"]])
        flagged = bool(flags)
        unfaithful = row["factuality"] < 1.0
        cell = {(True, True): "tp", (True, False): "fp", (False, True): "fn", (False, False): "tn"}[
            (flagged, unfaithful)
        ]
        for key in ("all", row["dataset"], f"{row['dataset']}/{'cased' if cased else 'lower'}"):
            groups[key][cell] += 1
        if examples and cell == "fp" and shown["fp"] < examples:
            shown["fp"] += 1
            print(f"  [FRANK false alarm] {row['id']}: {[f.as_dict() for f in flags]}")
    elapsed = time.perf_counter() - started
    print(
        f"\n== FRANK ({len(rows)} summaries, {elapsed:.1f}s): flagged = any Unsupported; "
        "positive = human factuality < 1"
    )
    print(
        f"{'subset':<14}{'n':>6}{'tp':>6}{'fp':>6}{'fn':>6}{'tn':>6}{'base':>7}"
        f"{'prec':>7}{'rec':>7}"
    )
    for key in ("all", "cnndm", "cnndm/cased", "cnndm/lower", "xsum", "xsum/cased", "xsum/lower"):
        c = groups.get(key)
        if not c:
            continue
        n = sum(c.values())
        precision, recall = prf(c["tp"], c["fp"], c["fn"])
        base = (c["tp"] + c["fn"]) / n
        print(
            f"{key:<14}{n:>6}{c['tp']:>6}{c['fp']:>6}{c['fn']:>6}{c['tn']:>6}{base:>7.1%}"
            f"{precision:>7.1%}{recall:>7.1%}"
        )
    print("  base = share of summaries humans marked not fully factual (precision of flagging all)")


# --------------------------------------------------------------------------------------------
# 2. Injected errors
# --------------------------------------------------------------------------------------------

# The checker's own number words (one to ninety), so an injected error is one it could read.
_NUM_WORDS = {w: v for w, v in {**_UNITS, **_TENS}.items() if v}
_DIGITS_RE = re.compile(r"(?<![\w.,:/])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d,]\d|[:/]\d)")
_WORDS_RE = re.compile(r"\b(" + "|".join(_NUM_WORDS) + r")\b", re.I)
_NAME_SKIP = (
    set(
        "the a an i it he she we they you his her its our their this that these those there here "
        "in on at for but and or if as after before when while with by from to of so not no mr mrs "
        "ms dr sir prof".split()
    )
    | _ALWAYS_CAPITAL
    | {"may", "march"}
)


def article_numbers(article: str) -> set[str]:
    """Every number in the article, as plain digits, including number words."""
    found = {m.group(0).replace(",", "") for m in re.finditer(r"\d[\d,]*(?:\.\d+)?", article)}
    found |= {str(_NUM_WORDS[m.group(1).lower()]) for m in _WORDS_RE.finditer(article)}
    return found


def number_mentions(sentence: str) -> list[tuple[int, int, str]]:
    spans = [(m.start(), m.end(), m.group(0)) for m in _DIGITS_RE.finditer(sentence)]
    spans += [(m.start(), m.end(), m.group(0)) for m in _WORDS_RE.finditer(sentence)]
    return spans


def swap_number(text: str, present: set[str], rng: random.Random) -> str | None:
    """A different number in the same style as ``text``, absent from the article."""
    if text.lower() in _NUM_WORDS:
        options = [
            w
            for w, v in _NUM_WORDS.items()
            if w != text.lower() and str(v) not in present and w not in present
        ]
        if not options:
            return None
        word = rng.choice(options)
        return word.capitalize() if text[0].isupper() else word
    plain = text.replace(",", "")
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    value = float(plain)
    if decimals == 0 and 1900 <= value <= 2100:
        candidates = [value + d for d in (-3, -2, -1, 1, 2, 3, -5, 5, -10, 10)]
    else:
        step = 10**-decimals
        candidates = [value + step * d for d in (1, 2, 3, -1, -2, 4, 5, 7)]
        candidates += [value * f for f in (2, 3, 0.5, 1.5, 4, 10)]
    rng.shuffle(candidates)
    for cand in candidates:
        if cand <= 0 or abs(cand - value) < 1e-9:
            continue
        if decimals:
            out = f"{cand:.{decimals}f}"
        elif float(cand).is_integer():
            out = f"{int(cand):,}" if "," in text else str(int(cand))
        else:
            continue
        if out.replace(",", "") not in present:
            return out
    return None


_DEMONYM_LIKE = re.compile(r"(?:an|ians?|ese|ish|ic|i)$")


def name_spans(sentence: str, cases: dict[str, str]) -> list[tuple[int, int, str]]:
    """Runs of words the article only ever writes capitalized (so: names), minus stop words and
    nationality adjectives."""
    spans: list[tuple[int, int, str]] = []
    run: list[re.Match[str]] = []

    def flush() -> None:
        if run:
            spans.append((run[0].start(), run[-1].end(), sentence[run[0].start() : run[-1].end()]))
        run.clear()

    for m in re.finditer(r"[A-Za-z][A-Za-z'-]*", sentence):
        word = re.sub(r"'s$", "", m.group(0))
        low = word.lower()
        is_name = (
            word[0].isupper()
            and low not in _NAME_SKIP
            and len(word) > 2
            and cases.get(low, "")[:1].isupper()
            and not _DEMONYM_LIKE.search(low)
        )
        if is_name and (not run or sentence[run[-1].end() : m.start()].strip() == ""):
            run.append(m)
            continue
        flush()
        if is_name:
            run.append(m)
    flush()
    return [(s, e, re.sub(r"'s$", "", t)) for s, e, t in spans]


def never_lower(name: str, article: str) -> bool:
    """True if no word of ``name`` occurs in lower case in ``article``."""
    return not any(re.search(rf"\b{re.escape(w.lower())}\b", article) for w in name.split())


def tokens_of(text: str) -> set[str]:
    return {t.lower() for t in re.findall(r"\w+", text)}


def flagged_with(flags: list, inserted: str) -> bool:
    """True if some reported missing item contains the inserted text's words."""
    want = tokens_of(inserted)
    return any(want <= tokens_of(item) or inserted in item for f in flags for item in f.missing)


def bench_injected(root: Path, refs: list[dict], rng: random.Random, examples: int) -> None:
    prepared = []
    for row in refs:
        cases = case_map(row["article"])
        prepared.append((row, cases, prepare_summary(row["summary"], row["article"], cases)))
    # Pool of replacement names: names from the other references.
    pool: list[tuple[str, str]] = []
    for row, cases, summary in prepared:
        for sentence in _split_sentences(summary):
            for start, _, name in name_spans(sentence, cases):
                if start > 0 and never_lower(name, row["article"]):
                    pool.append((row["id"], name))

    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    shown = collections.Counter()
    for row, cases, summary in prepared:
        article = row["article"]
        facts = SourceFacts.from_text(article)
        present = article_numbers(article)
        article_tokens = tokens_of(article)
        st = stats[row["dataset"]]
        for sentence in _split_sentences(summary):
            flags = find_unsupported(sentence, article, facts=facts)
            st["clean"] += 1
            st["clean_flagged"] += bool(flags)
            # A flag whose items all occur nowhere in the article's text, not even as a
            # case-insensitive substring, is extra content in the reference, not a checker slip.
            items = [item.lower() for f in flags for item in f.missing]
            st["clean_flagged_absent"] += bool(flags) and not any(
                re.sub(r"'s$", "", item) in article.lower() for item in items
            )
            if flags and examples and shown[row["dataset"] + "fa"] < examples:
                shown[row["dataset"] + "fa"] += 1
                print(f"  [false alarm {row['id']}] {flags[0].as_dict()}")
            mentions = number_mentions(sentence)
            if mentions:
                start, end, text = rng.choice(mentions)
                new = swap_number(text, present, rng)
                if new is not None:
                    swapped = sentence[:start] + new + sentence[end:]
                    got = find_unsupported(swapped, article, facts=facts)
                    st["num"] += 1
                    st["num_caught"] += flagged_with(got, new)
                    if (
                        not flagged_with(got, new)
                        and examples
                        and shown[row["dataset"] + "num"] < examples
                    ):
                        shown[row["dataset"] + "num"] += 1
                        print(f"  [number missed {row['id']}] {text!r}->{new!r}: {swapped}")
            names = [
                n
                for n in name_spans(sentence, cases)
                if tokens_of(n[2]) <= article_tokens and never_lower(n[2], article)
            ]
            if names:
                start, end, text = rng.choice(names)
                width = len(text.split())
                options = [
                    n for rid, n in pool if rid != row["id"] and not tokens_of(n) & article_tokens
                ]
                same_width = [n for n in options if len(n.split()) == width]
                if options:
                    new = rng.choice(same_width or options)
                    swapped = sentence[:start] + new + sentence[end:]
                    got = find_unsupported(swapped, article, facts=facts)
                    st["name"] += 1
                    st["name_caught"] += flagged_with(got, new)
                    st["name_initial"] += start == 0
                    st["name_initial_caught"] += start == 0 and flagged_with(got, new)
                    if (
                        not flagged_with(got, new)
                        and examples
                        and shown[row["dataset"] + "name"] < examples
                    ):
                        shown[row["dataset"] + "name"] += 1
                        print(f"  [name missed {row['id']}] {text!r}->{new!r}: {swapped}")

    print("\n== Injected errors on reference summaries (caught = the inserted value is reported)")
    print(
        f"{'dataset':<8}{'number swaps':>22}{'name swaps':>22}{'  (sentence-initial)':>22}"
        f"{'false alarms':>22}"
    )
    for dataset in sorted(stats):
        s = stats[dataset]

        def rate(hit: int, n: int) -> str:
            return f"{hit}/{n} = {hit / n:.1%}" if n else "n/a"

        print(
            f"{dataset:<8}{rate(s['num_caught'], s['num']):>22}"
            f"{rate(s['name_caught'], s['name']):>22}"
            f"{rate(s['name_initial_caught'], s['name_initial']):>22}"
            f"{rate(s['clean_flagged'], s['clean']):>22}"
        )
    print("  targets: number swaps >= 95%, name swaps >= 85%, false alarms <= 15%")
    for dataset in sorted(stats):
        s = stats[dataset]
        print(
            f"  {dataset}: of {s['clean_flagged']} flagged reference sentences, "
            f"{s['clean_flagged_absent']} report only items that occur nowhere in the article "
            "text (case-insensitive substring), i.e. the reference adds them"
        )


def bench_speed(articles: dict[str, str]) -> None:
    long_source = " ".join(articles.values())[:200_000]
    summary = "Jens Stoltenberg said 1,000 troops would cost £5m, about 2 per cent of the budget."
    started = time.perf_counter()
    for _ in range(5):
        find_unsupported(summary, long_source)
    per_call = (time.perf_counter() - started) / 5
    print(f"\n== Speed: {per_call * 1000:.0f} ms per call on a {len(long_source):,}-char source")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=0, help="print N examples of each error")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    root = eval_dir()
    needed = [root / "frank_factuality.jsonl", root / "summ_refs_news.jsonl"]
    if not all(p.is_file() for p in needed):
        print(f"evaluation data not found under {root} (set BRIEFING_EVAL_DIR); nothing measured")
        return 0
    refs = read_jsonl(root / "summ_refs_news.jsonl")
    articles = {row["id"]: row["article"] for row in refs}
    bench_frank(root, articles, args.examples)
    bench_injected(root, refs, random.Random(args.seed), args.examples)
    bench_speed(articles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
