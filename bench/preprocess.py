"""Measure preprocessing (``service.preprocess.preprocess``) on dirty copies of real articles.

Run by hand: ``.venv/bin/python bench/preprocess.py [--articles N] [--quick]``.

Cases are generated from the articles of ``summ_refs_news.jsonl`` (read at run time from
``/work/shared/eval`` or ``$BRIEFING_EVAL_DIR``; nothing is copied into the repository).
Each article is cut into sentences, grouped into paragraphs of 1-4 sentences under a title,
then made dirty in one of these ways (seeded, so every run sees the same cases):

- ``clean``       nothing added (what the rules cost on real text)
- ``near``        a third of the paragraphs repeated later with 1-2 small edits each
                  (a word dropped, a typo, quotes or spaces changed, case, punctuation)
- ``article``     the whole article repeated (as is, or as one block, or with edits)
- ``boilerplate`` furniture lines inserted (CTAs, "Read more:" links, credits, bylines, …)
- ``all``         all of the above

Figures (targets from issue 3):
1. share of original sentences kept exactly once (>= 0.99), injected duplicate sentences
   removed (>= 0.98), injected boilerplate lines removed (>= 0.9), per case;
2. threshold sweep: the same figures on ``all`` and ``clean`` for a range of thresholds;
3. similarity of edited copies vs distinct sentences for several shingle kinds, and exact
   Jaccard vs a datasketch MinHash estimate (why dedup computes Jaccard exactly);
4. HTML: generated pages through trafilatura, sentences kept and furniture removed;
5. throughput of ``preprocess`` on about 1 MB of dirty text, with the time spent in
   ``split_sentences`` (pysbd) and in repair (ftfy) shown apart; medians of interleaved runs,
   now and with sentences split as before the fast path (``pysbd_runner.as_before()``).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import service.preprocess as pp  # noqa: E402
import service.preprocess.cleaner as cleaner  # noqa: E402
from bench.evaldata import eval_dir  # noqa: E402
from service.preprocess import (  # noqa: E402
    Document,
    normalize,
    preprocess,
    pysbd_runner,
    split_sentences,
)
from service.preprocess.boilerplate import boilerplate_rule, glued_furniture  # noqa: E402
from service.preprocess.dedup import (  # noqa: E402
    MIN_NEAR_WORDS,
    NEAR_THRESHOLD,
    SHINGLE_WORDS,
    containment,
    paragraph_key,
    repeats,
    shingles,
)
from service.preprocess.html import extract_text  # noqa: E402
from tests.similarity import jaccard  # noqa: E402

ARTICLES = "summ_refs_news.jsonl"
KINDS = ("clean", "near", "article", "boilerplate", "all")
SEED = 20240611



def read_articles(limit: int | None) -> list[dict]:
    path = eval_dir() / ARTICLES
    if not path.exists():
        sys.exit(f"{path} not found: set BRIEFING_EVAL_DIR to the folder holding {ARTICLES}")
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[:limit] if limit else rows


# -- furniture a scraper leaves in; {h} is another article's headline ------------------------

FURNITURE = [
    "Advertisement", "ADVERTISEMENT", "Advertisement - Scroll to continue",
    "Story continues below advertisement", "Continue reading the main story",
    "Read more: {h}", "READ MORE: {h}", "Related: {h}", "See also: {h}", "Watch: {h}",
    "More on this story", "Related Topics", "Most Read", "Recommended",
    "Share this article", "Share", "Share on Facebook", "Share via Email", "Tweet", "Print",
    "Sign up for our newsletter", "Sign up for our daily newsletter.",
    "Sign up to our free Morning Briefing newsletter",
    "Subscribe to our newsletter for the latest updates.",
    "Get the best of the news delivered to your inbox: sign up for our newsletter.",
    "Subscribe now", "Subscribe for full access", "Follow us on Twitter @NewsDesk",
    "Follow us on Facebook", "Click here to subscribe", "Click here for more news",
    "Image copyright Getty Images", "Image caption", "Media playback is unsupported on your device",
    "Photo: AP", "Photograph: Reuters", "Getty Images", "© 2024 Example Media Ltd",
    "Copyright 2024 The Daily Example. All rights reserved.", "By Jane Smith",
    "By Tom Lee and Ana Ruiz, Political Reporters", "Published 10:32 GMT, 5 May 2024",
    "Updated: 14:05, 6 June 2024", "5 min read", "Comments (12)", "24 comments",
    "Skip to main content", "Back to top", "* * *", "-----",
]


# -- small edits that make a near duplicate --------------------------------------------------

def _drop_word(s: str, rng: random.Random) -> str:
    words = s.split(" ")
    if len(words) < 4:
        return s
    i = rng.randrange(1, len(words) - 1)
    return " ".join(words[:i] + words[i + 1 :])


def _typo(s: str, rng: random.Random) -> str:
    spots = list(re.finditer(r"[a-z]{4,}", s))
    if not spots:
        return s
    m = rng.choice(spots)
    i = rng.randrange(m.start(), m.end() - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]


def _quotes(s: str, rng: random.Random) -> str:
    if "'" in s or '"' in s:
        return s.replace("'", "\u2019").replace('"', "\u201c")
    return s.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')


def _spaces(s: str, rng: random.Random) -> str:
    words = s.split(" ")
    i = rng.randrange(len(words))
    words[i] = words[i] + rng.choice(["  ", "\u00a0", " \t"])
    return " ".join(words)


def _case(s: str, rng: random.Random) -> str:
    return s.lower() if rng.random() < 0.5 else s[:1].lower() + s[1:]


def _punct(s: str, rng: random.Random) -> str:
    if "," in s:
        i = rng.choice([m.start() for m in re.finditer(",", s)])
        return s[:i] + s[i + 1 :]
    return s.rstrip(".")


def _add_word(s: str, rng: random.Random) -> str:
    words = s.split(" ")
    i = rng.randrange(1, max(2, len(words)))
    return " ".join(words[:i] + [rng.choice(["also", "now", "still", "reportedly"])] + words[i:])


EDITS: list[Callable[[str, random.Random], str]] = [
    _drop_word, _typo, _quotes, _spaces, _case, _punct, _add_word,
]


def edit_paragraph(sentences: list[str], rng: random.Random) -> str:
    """A copy of the paragraph with one or two small edits, each in a random sentence."""
    copy = list(sentences)
    for _ in range(rng.choice([1, 1, 2])):
        i = rng.randrange(len(copy))
        copy[i] = rng.choice(EDITS)(copy[i], rng)
    return " ".join(copy)


# -- one generated case ----------------------------------------------------------------------

@dataclass
class Case:
    text: str
    originals: list[str]  # sentence units of the clean document (the title, removed, aside)
    clean_text: str = ""  # the document before anything was injected
    injected_copies: int = 0  # sentence units added as repeats
    furniture: list[str] = field(default_factory=list)


def title_of(row: dict) -> str:
    """A headline made from the summary: its first sentence, at most 12 words, no full stop."""
    first = re.split(r"(?<=\w)\s*[.!?](?:\s|$)", row["summary"].strip(), maxsplit=1)[0]
    words = [w for w in first.split() if any(c.isalnum() for c in w)]
    return " ".join(words[:12])


def paragraphs_of(row: dict, rng: random.Random) -> list[list[str]]:
    sentences = split_sentences(normalize.normalize_text(row["article"]))
    groups: list[list[str]] = []
    while sentences:
        n = rng.choice([1, 2, 3, 4])
        groups.append(sentences[:n])
        sentences = sentences[n:]
    # Units as preprocess will see them: the sentences of each paragraph as written.
    return [split_sentences(" ".join(g)) or g for g in groups]


def make_case(row: dict, kind: str, rng: random.Random, headlines: list[str]) -> Case:
    title = title_of(row)
    paragraphs = paragraphs_of(row, rng)
    blocks: list[str] = [title] + [" ".join(p) for p in paragraphs]
    # The title is the headline, which preprocessing removes (issue 12): it is neither kept
    # nor lost; its copies are still repeats to remove.
    originals = [s for p in paragraphs for s in p]
    case = Case("", originals, clean_text="\n\n".join(blocks))
    if kind in ("near", "all"):
        for p in paragraphs:
            if rng.random() < 1 / 3:
                copy = edit_paragraph(p, rng)
                original = blocks.index(" ".join(p), 1)
                blocks.insert(rng.randrange(original + 1, len(blocks) + 1), copy)  # after it
                case.injected_copies += len(p)
    if kind in ("article", "all"):
        style = rng.choice(["as is", "one block", "edited"])
        if style == "as is":
            blocks += [title] + [" ".join(p) for p in paragraphs]
        elif style == "one block":
            blocks += [title, " ".join(s for p in paragraphs for s in p)]
        else:
            blocks += [title] + [edit_paragraph(p, rng) for p in paragraphs]
        case.injected_copies += len(originals)
    if kind in ("boilerplate", "all"):
        for _ in range(max(2, len(blocks) // 3)):
            line = rng.choice(FURNITURE).format(h=rng.choice(headlines))
            case.furniture.append(line)
            at = rng.randrange(1, len(blocks) + 1)
            if rng.random() < 0.2 and at < len(blocks):
                blocks[at] = blocks[at] + "\n" + line  # a line of its own, no blank line
            else:
                blocks.insert(at, line)
    case.text = "\n\n".join(blocks)
    return case


# -- scoring ---------------------------------------------------------------------------------

@dataclass
class Score:
    originals: int = 0
    kept_once: int = 0
    lost: int = 0
    injected: int = 0
    injected_left: int = 0
    furniture: int = 0
    furniture_left: int = 0
    natural_repeats: int = 0
    strict_originals: int = 0  # with only exact repeats of the article merged
    strict_kept_once: int = 0
    words_lost: int = 0  # original sentences with a word found nowhere in the output
    lost_examples: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("originals", "kept_once", "lost", "injected", "injected_left",
                     "furniture", "furniture_left", "natural_repeats", "words_lost",
                     "strict_originals", "strict_kept_once"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lost_examples += other.lost_examples

    @property
    def kept_share(self) -> float:
        return self.kept_once / self.originals if self.originals else 1.0

    @property
    def strict_share(self) -> float:
        return self.strict_kept_once / self.strict_originals if self.strict_originals else 1.0

    @property
    def injected_share(self) -> float:
        return 1 - self.injected_left / self.injected if self.injected else 1.0

    @property
    def furniture_share(self) -> float:
        return 1 - self.furniture_left / self.furniture if self.furniture else 1.0


def _words(text: str) -> frozenset[str]:
    return frozenset(paragraph_key(text).split())


def _paragraph_of_each_sentence(doc: Document) -> list[int]:
    """For each of ``doc.sentences``, the index of the paragraph it is in."""
    owners: list[int] = []
    j = 0
    for index, paragraph in enumerate(doc.paragraphs):
        rest = paragraph
        while rest and j < len(doc.sentences):
            sentence = doc.sentences[j]
            if not rest.startswith(sentence):
                break
            rest = rest[len(sentence) :].lstrip(" ")
            owners.append(index)
            j += 1
    owners += [-1] * (len(doc.sentences) - len(owners))
    return owners


def _groups(originals: list[str], *, strict: bool = False) -> list[int]:
    """Group index of each original sentence. Sentences the article itself repeats form one
    group: the same key, or (unless ``strict``) at least 80% of the shorter one's words in
    the longer one. CNN/DailyMail pages repeat their highlights and captions in the body,
    and removing those repeats is right."""
    keys = [paragraph_key(s) for s in originals]
    words = [frozenset(k.split()) for k in keys]
    group = list(range(len(originals)))
    for j in range(len(originals)):
        for i in range(j):
            if group[i] != i:
                continue
            short, long_ = sorted((words[i], words[j]), key=len)
            similar = (not strict and len(short) >= 6
                       and len(short & long_) >= 0.8 * len(short))
            if keys[i] == keys[j] or similar:
                group[j] = i
                break
    return group


def _places(case: Case, doc: Document, keys: list[str], group: list[int]) -> dict[int, set[int]]:
    """For each group of original sentences, the output paragraphs it appears in: every
    output sentence is attributed to an original (same key, else one whose key contains it,
    else the most similar by shared words)."""
    by_key = {k: i for i, k in reversed(list(enumerate(keys)))}
    word_sets = [_words(s) for s in case.originals]
    places: dict[int, set[int]] = {}
    for sentence, paragraph in zip(doc.sentences, _paragraph_of_each_sentence(doc),
                                   strict=True):
        k = paragraph_key(sentence)
        found = [by_key[k]] if k in by_key else []
        if not found:
            # The splitter may see several originals as one sentence (pysbd decides from
            # context, and a paragraph's context changes when something is cut from it).
            padded = f" {k} "
            found = [i for i, key in enumerate(keys)
                     if len(key.split()) >= 3 and f" {key} " in padded]
        if not found and len(k.split()) >= MIN_NEAR_WORDS:
            found = [i for i, key in enumerate(keys) if k in key][:1]
        if not found:
            ws = _words(sentence)
            best, best_sim = None, 0.5
            for i, other in enumerate(word_sets):
                sim = jaccard(ws, other)
                if sim > best_sim:
                    best, best_sim = i, sim
            found = [] if best is None else [best]
        for i in found:
            places.setdefault(group[i], set()).add(paragraph)
    return places


def score(case: Case, doc: Document, clean: Document) -> Score:
    """Count, for each original sentence, the output paragraphs it appears in.

    Sentences the article itself repeats (CNN/DailyMail repeats highlights and captions in
    the body) are one group; such a group may appear as often as it does when the clean
    article is preprocessed (``clean``), so the figures count what the injections changed,
    and sentences lost on the clean article itself are listed apart."""
    keys = [paragraph_key(s) for s in case.originals]
    result = Score()
    for group, strict in ((_groups(case.originals, strict=True), True),
                          (_groups(case.originals), False)):
        places = _places(case, doc, keys, group)
        baseline = _places(case, clean, keys, group)
        if strict:
            result.strict_originals = len(set(group))
            result.strict_kept_once = sum(
                1 <= len(places.get(g, ())) <= max(1, len(baseline.get(g, ())))
                for g in set(group)
            )
    members = Counter(group)
    for g in members:
        got = len(places.get(g, ()))
        allowed = max(1, len(baseline.get(g, ())))
        result.originals += 1
        result.kept_once += 1 <= got <= allowed
        if got == 0:
            result.lost += 1
            result.lost_examples.append(case.originals[g])
        result.injected_left += max(0, got - allowed)
    result.natural_repeats = len(group) - len(members)
    out_words = {w for s in doc.sentences for w in paragraph_key(s).split()}
    for original in case.originals:
        story = original[len(glued_furniture(original)) :]  # furniture words do not count
        if boilerplate_rule(story, standalone=False) is None and any(
            len(w) >= 3 and w not in out_words for w in paragraph_key(story).split()
        ):
            result.words_lost += 1
    result.injected = case.injected_copies
    out_keys = {paragraph_key(s) for s in doc.sentences}
    out_text = " " + " ".join(paragraph_key(s) for s in doc.sentences) + " "
    for line in case.furniture:
        result.furniture += 1
        k = paragraph_key(line)
        if k in out_keys or (len(k.split()) >= 2 and f" {k} " in out_text):
            result.furniture_left += 1
    return result


def run_cases(rows: list[dict], kind: str, threshold: float) -> Score:
    rng = random.Random(f"{SEED}-{kind}")
    headlines = [title_of(r) for r in rows]
    total = Score()
    for row in rows:
        case = make_case(row, kind, rng, headlines)
        doc = preprocess(case.text, near_threshold=threshold)
        clean = preprocess(case.clean_text, near_threshold=threshold)
        total.add(score(case, doc, clean))
    return total


# -- report sections -------------------------------------------------------------------------

def section_quality(rows: list[dict]) -> None:
    print(f"\n## 1. Dedup and boilerplate quality ({len(rows)} articles per case, "
          f"threshold {NEAR_THRESHOLD})\n")
    print("| case | original sentences | kept exactly once (>=0.99) | strict | lost "
          "| injected repeats | removed (>=0.98) | furniture lines | removed (>=0.9) "
          "| words lost |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    lost: dict[str, list[str]] = {}
    natural = 0
    for kind in KINDS:
        s = run_cases(rows, kind, NEAR_THRESHOLD)
        print(f"| {kind} | {s.originals} | {s.kept_share:.4f} | {s.strict_share:.4f} | "
              f"{s.lost} | {s.injected} | {s.injected_share:.4f} | {s.furniture} | "
              f"{s.furniture_share:.4f} | {s.words_lost} |")
        lost[kind] = s.lost_examples
        natural = s.natural_repeats
    print(f"\nOriginal sentences are counted once per group of sentences the article itself "
          f"repeats (80% of the shorter one's words in the longer: {natural} such repeats, "
          "highlights and captions); 'strict' merges only exact repeats. 'words lost': "
          "original sentences with a word (3+ letters) that is nowhere in the output.")
    for kind in ("clean", "all"):
        if lost[kind]:
            print(f"\nOriginal sentences lost in '{kind}' (first 8):")
            for sentence in lost[kind][:8]:
                print(f"- {sentence[:150]!r}")
    story = [s for r in rows for s in split_sentences(normalize.normalize_text(r["article"]))]
    hits = [(boilerplate_rule(s, standalone=False), s) for s in story]
    hits = [(rule, s) for rule, s in hits if rule]
    print(f"\nStory sentences of the articles that a boilerplate rule matches: {len(hits)} "
          f"of {len(story)}")
    for rule, sentence in hits[:10]:
        print(f"- {rule}: {sentence[:160]!r}")


@contextmanager
def shingle_size(n: int) -> Iterator[None]:
    """Dedup with word ``n``-grams instead of the default, for the sweep."""
    original = cleaner.shingles
    cleaner.shingles = functools.partial(original, n=n)
    try:
        yield
    finally:
        cleaner.shingles = original


@contextmanager
def memoized_splitter() -> Iterator[None]:
    """pysbd is deterministic and slow: the quality sections split each text once."""
    original = cleaner.split_sentences
    cleaner.split_sentences = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        cleaner.split_sentences = original


def section_sweep(rows: list[dict]) -> None:
    print("\n## 2. Threshold sweep: share of a text's shingles found in one earlier text\n")
    print("'words lost': original sentences with a word that is nowhere in the output (what "
          "an over-eager threshold costs: a sentence that extends an earlier one is dropped "
          "with its new words).\n")
    print("| shingles | threshold | all: kept once | all: repeats removed | clean: kept once "
          "| clean: lost | clean: words lost |")
    print("|---|---|---|---|---|---|---|")
    for n, name in ((2, "word bigrams"), (1, "words")):
        with shingle_size(n):
            for t in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
                a = run_cases(rows, "all", t)
                c = run_cases(rows, "clean", t)
                chosen = n == SHINGLE_WORDS and t == NEAR_THRESHOLD
                mark = " (chosen)" if chosen else ""
                print(f"| {name} | {t:.1f}{mark} | {a.kept_share:.4f} | "
                      f"{a.injected_share:.4f} | {c.kept_share:.4f} | {c.lost} | "
                      f"{c.words_lost} |")


def _char_shingles(key: str, n: int) -> frozenset[str]:
    return frozenset(key[i : i + n] for i in range(max(1, len(key) - n + 1)))


SHINGLE_KINDS: dict[str, Callable[[str], frozenset[str]]] = {
    "words": lambda k: shingles(k, 1),
    "word bigrams": lambda k: shingles(k, 2),
    "word trigrams": lambda k: shingles(k, 3),
    "char 5-grams": lambda k: _char_shingles(k, 5),
}


def section_shingles(rows: list[dict]) -> None:
    """Edited copies against distinct sentences and extensions, per shingle kind and measure."""
    rng = random.Random(f"{SEED}-pairs")
    same: list[tuple[str, str]] = []
    distinct: list[tuple[str, str]] = []
    extended: list[tuple[str, str]] = []
    for row in rows:
        sentences = [s for s in split_sentences(normalize.normalize_text(row["article"]))
                     if len(s.split()) >= MIN_NEAR_WORDS]
        for s in sentences:
            same.append((s, rng.choice(EDITS)(s, rng)))
        for a, b in zip(sentences, sentences[1:], strict=False):
            distinct.append((a, b))
            extended.append((a, f"{a} {b}"))  # a later text that adds a sentence
        for _ in range(len(sentences)):
            if len(sentences) > 2:
                a, b = rng.sample(sentences, 2)
                distinct.append((a, b))
    same = [(a, b) for a, b in same if paragraph_key(a) != paragraph_key(b)]
    print(f"\n## 3. An edited copy vs distinct sentences vs an extension "
          f"({len(same)} copies, {len(distinct)} distinct pairs, {len(extended)} extensions; "
          f"sentences of >= {MIN_NEAR_WORDS} words)\n")
    print("Each cell: share of copies matched (should be 1) / distinct pairs matched / "
          "extensions matched (both should be 0). 'in earlier' is the share of the later "
          "text's shingles found in the earlier one (what dedup uses); Jaccard is symmetric. "
          "Copies whose key equals the original's (quote, space, case edits) are caught "
          "exactly and left out.\n")
    thresholds = (0.5, 0.6, 0.7, 0.8, 0.9)
    print("| shingles | measure | " + " | ".join(f"t={t}" for t in thresholds) + " |")
    print("|---|---|" + "---|" * len(thresholds))
    measures: dict[str, Callable[[frozenset, frozenset], float]] = {
        "in earlier": lambda earlier, later: containment(later, earlier),
        "Jaccard": jaccard,
    }
    for name, fn in SHINGLE_KINDS.items():
        for measure, sim in measures.items():
            def sims(pairs: list[tuple[str, str]], fn=fn, sim=sim) -> list[float]:
                return [sim(fn(paragraph_key(a)), fn(paragraph_key(b))) for a, b in pairs]

            s_sims, d_sims, e_sims = sims(same), sims(distinct), sims(extended)
            cells = []
            for t in thresholds:
                recall = sum(x >= t for x in s_sims) / len(s_sims)
                false = sum(x >= t for x in d_sims) / len(d_sims)
                ext = sum(x >= t for x in e_sims) / len(e_sims)
                cells.append(f"{recall:.3f} / {false:.4f} / {ext:.3f}")
            print(f"| {name} | {measure} | " + " | ".join(cells) + " |")
    _minhash_comparison(same, distinct)


def _minhash_comparison(same: list[tuple[str, str]], distinct: list[tuple[str, str]]) -> None:
    try:
        from datasketch import MinHash
    except ImportError:
        print("\n(datasketch not installed: MinHash comparison skipped)")
        return
    t = NEAR_THRESHOLD
    pairs = same + distinct[: len(same)]
    errors, flips = [], 0
    started = time.perf_counter()
    for a, b in pairs:
        sa, sb = shingles(paragraph_key(a)), shingles(paragraph_key(b))
        ma, mb = MinHash(num_perm=128, seed=1), MinHash(num_perm=128, seed=1)
        ma.update_batch([x.encode() for x in sa])
        mb.update_batch([x.encode() for x in sb])
        est = ma.jaccard(mb)
        # |A ∩ B| = J (|A| + |B|) / (1 + J): the containment MinHash implies.
        est_in = est * (len(sa) + len(sb)) / ((1 + est) * len(sb))
        errors.append(abs(est - jaccard(sa, sb)))
        flips += (est_in >= t) != repeats(sb, sa, t)
    minhash_s = time.perf_counter() - started
    started = time.perf_counter()
    for a, b in pairs:
        repeats(shingles(paragraph_key(b)), shingles(paragraph_key(a)), t)
    exact_s = time.perf_counter() - started
    print(f"\ndatasketch MinHash (128 permutations) on {len(pairs)} of these pairs: mean "
          f"|estimate - exact Jaccard| {statistics.mean(errors):.3f}, max {max(errors):.3f}; "
          f"the containment it implies puts {flips} pairs ({flips / len(pairs):.2%}) on the "
          f"other side of t={t}; {minhash_s / len(pairs) * 1e6:.0f} us per pair against "
          f"{exact_s / len(pairs) * 1e6:.0f} us for the exact sets.")


def _html_page(row: dict, rng: random.Random, headlines: list[str]) -> tuple[str, str]:
    """A generated page around the article, and the same article as plain text."""
    import html as html_lib

    paragraphs = [" ".join(p) for p in paragraphs_of(row, rng)]
    title = title_of(row)
    esc = html_lib.escape
    body = []
    for p in paragraphs:
        body.append(f"<p>{esc(p)}</p>")
        if rng.random() < 0.3:
            body.append('<div class="ad">Advertisement</div>')
    nav = " ".join(f'<a href="/s{i}">{esc(h)}</a>' for i, h in
                   enumerate(rng.sample(headlines, 5)))
    page = (
        f"<!DOCTYPE html><html><head><title>{esc(title)}</title>"
        "<script>var x = 1;</script><style>p {color: red}</style></head><body>"
        f"<header><nav>{nav}</nav></header><main><article><h1>{esc(title)}</h1>"
        + "".join(body)
        + "</article></main><aside><h2>Most read</h2><ul>"
        + "".join(f"<li><a href='/m'>{esc(h)}</a></li>" for h in rng.sample(headlines, 4))
        + "</ul></aside><footer><p>© 2024 Example Media Ltd. All rights reserved.</p>"
        "<a href='/privacy'>Privacy policy</a></footer></body></html>"
    )
    return page, "\n\n".join([title, *paragraphs])


def section_html(rows: list[dict]) -> None:
    """Pages through trafilatura against the same articles as text: what the HTML route
    keeps of what the text route keeps, and whether any page furniture gets through."""
    rng = random.Random(f"{SEED}-html")
    headlines = [title_of(r) for r in rows]
    kept = total = leaked = 0
    bytes_in = 0
    elapsed = extracting = 0.0
    for row in rows:
        page, text = _html_page(row, rng, headlines)
        bytes_in += len(page.encode())
        started = time.perf_counter()
        extract_text(page)
        extracting += time.perf_counter() - started
        started = time.perf_counter()
        doc = preprocess(page)
        elapsed += time.perf_counter() - started
        out_text = " " + " ".join(paragraph_key(s) for s in doc.sentences) + " "
        for sentence in preprocess(text, html=False).sentences:
            total += 1
            kept += f" {paragraph_key(sentence)} " in out_text
        leaked += any(f" {k} " in out_text for k in
                      ("advertisement", "privacy policy", "all rights reserved", "most read"))
    print(f"\n## 4. HTML pages ({len(rows)} generated pages: nav, ads, aside, footer)\n")
    print(f"Sentences the text route keeps that the HTML route keeps too: {kept}/{total} "
          f"({kept / total:.4f}); pages with furniture left in: {leaked}; "
          f"{bytes_in / elapsed / 1e6:.2f} MB/s of HTML through preprocess, of which "
          f"trafilatura alone {bytes_in / extracting / 1e6:.2f} MB/s")


def _dirty_megabyte(rows: list[dict]) -> str:
    rng = random.Random(f"{SEED}-throughput")
    headlines = [title_of(r) for r in rows]
    parts, size = [], 0
    while size < 1_000_000:
        for row in rows:
            case = make_case(row, rng.choice(KINDS), rng, headlines)
            parts.append(case.text)
            size += len(case.text.encode())
            if size >= 1_000_000:
                break
    return "\n\n".join(parts)


@dataclass
class _Timer:
    seconds: float = 0.0

    def wrap(self, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def _timed_run(text: str) -> tuple[float, float, float, Document]:
    """One run of ``preprocess``: total seconds, seconds in split_sentences and in repair."""
    splitting, repairing = _Timer(), _Timer()
    original_split, original_repair = cleaner.split_sentences, pp.repair
    pysbd_runner._pysbd_spans.cache_clear()  # nothing left from an earlier run
    try:
        cleaner.split_sentences = splitting.wrap(original_split)
        pp.repair = repairing.wrap(original_repair)
        started = time.perf_counter()
        doc = preprocess(text)
        total = time.perf_counter() - started
    finally:
        cleaner.split_sentences, pp.repair = original_split, original_repair
    return total, splitting.seconds, repairing.seconds, doc


def section_throughput(rows: list[dict], repeats: int) -> None:
    text = _dirty_megabyte(rows)
    mb = len(text.encode()) / 1e6
    preprocess(text[:20_000])  # warm up: regex compilation, imports
    now: list[tuple[float, float, float]] = []
    before: list[tuple[float, float, float]] = []
    docs = []
    for _ in range(repeats):  # interleaved, so that both see the same machine
        *seconds, doc = _timed_run(text)
        now.append(tuple(seconds))
        with pysbd_runner.as_before():
            *seconds, doc_before = _timed_run(text)
        before.append(tuple(seconds))
        if not docs:  # keep no more documents alive than needed: a bigger heap is slower
            docs = [doc, doc_before]
        del doc, doc_before
    doc = docs[0]
    assert docs[1].text == doc.text, "splitting as before changed the output"
    print(f"\n## 5. Throughput ({mb:.2f} MB of dirty text, {doc.stats.paragraphs_in} "
          f"paragraphs in, {doc.stats.paragraphs_out} out, medians of {repeats} interleaved "
          "runs)\n")
    print("| splitting | preprocess | MB/s | split_sentences | repair (ftfy …) | everything "
          "else |")
    print("|---|---|---|---|---|---|")
    for label, runs in [("now", now), ("as before (pysbd on every piece)", before)]:
        total, split_s, repair_s = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"| {label} | {total:.2f} s | {mb / total:.2f} | {split_s:.2f} s | "
              f"{repair_s:.2f} s | {total - split_s - repair_s:.2f} s |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=None, help="use the first N only")
    parser.add_argument("--quick", action="store_true", help="skip the sweep and use 100 "
                        "articles")
    parser.add_argument("--repeats", type=int, default=5, help="throughput runs")
    parser.add_argument("--throughput", action="store_true", help="only section 5")
    args = parser.parse_args(argv)
    rows = read_articles(100 if args.quick and not args.articles else args.articles)
    print(f"# preprocess bench: {len(rows)} articles from {eval_dir() / ARTICLES}")
    if args.throughput:
        section_throughput(read_articles(None), args.repeats)
        return 0
    with memoized_splitter():
        section_quality(rows)
        if not args.quick:
            section_sweep(rows)
        section_shingles(rows)
    section_html(rows[:100])
    section_throughput(read_articles(None), args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
