"""Extractive engine: picks the article's leading, most central sentences; needs no weights.

It serves when no model is available (``BRIEFING_ENGINE=auto`` falls back to it) and is the
baseline in benchmarks, where it has to beat Lead-3 (the first three sentences), which most
unsupervised methods lose to on news. bench/quality.py measures it on 250 CNN/DailyMail
articles; the weights below were chosen there (and held on both halves of a split), and the
rules that ROUGE does not reward are marked as a reader's choice.

Ranking (``rank_sentences``), for sentence i of n:
  1. lead — ``exp(-i / LEAD_DECAY)``: news puts its point first, the strongest single signal.
  2. directed centrality (PacSum, Zheng & Lapata 2019) over TF-IDF cosine similarities: a
     sentence gains from resembling the sentences after it (it introduces what the article
     goes on to develop) and loses twice as much from resembling those before it (it repeats).
     Undirected centrality (LexRank, similarity to the TF-IDF centroid) alone trails Lead-3
     by 9-10 ROUGE-1 points, as it favours long, wordy sentences; mixed with the lead it came
     out 0.3-0.4 points below this directed score.
  3. score = lead + CENTRALITY_WEIGHT * centrality (centrality scaled to 0..1 per article).
  4. fit — sentences a briefing should not use go behind every one it should:
     - sharing no content word with any other sentence: off-topic asides and furniture
       (measured: neutral);
     - reader's choice, each measured within ~0.1 ROUGE-1 F1: more than
       ``MAX_SENTENCE_WORDS`` words (in news scraped from the web, mostly photo captions
       glued to the next sentence, run-ons nobody wants to read; too long for the short
       briefing anyway), fewer than ``MIN_SENTENCE_WORDS`` words ("No wonder."), or nothing
       but a quotation (a quote with no one to say it); and no terminal punctuation
       (headlines, bylines). The length rule costs about 1 point of ROUGE-1 recall in the
       top three (shorter picks); bench/quality.py prints that ablation.

Selection (``select``): the lead first — the first of the first three sentences that can
open a briefing, kept however short, long (trimmed at a clause boundary to fit) or alone in
its words (``lead_index``, ``trim``) — then the best-ranked sentences that fit the kind's
word and sentence budget, usable ones before unusable ones (behind, not out), returned in
article order, so the briefing reads like the article. The short briefing takes its other
sentences from near the lead only, never from the tail to fill its words, and only whole.

A sentence that is cut ends with "…", wherever it is cut (``trim``): a clause cut from a
longer sentence and closed with a full stop ("The golfer's girlfriend, bikini model Alexis
Randock.") reads as the whole sentence, and may say less or other than the article did.

Redundancy removal (MMR) on top of this measured as a small loss: step 2 already penalizes
repeating earlier text. Stop words follow the article's language (``vocabulary_for``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from service.engines.base import GenerationRequest
from service.lengths import is_complete
from service.preprocess import split_sentences
from service.preprocess.dedup import paragraph_key
from service.preprocess.language import detect_language, stop_words
from service.words import compile_words

if TYPE_CHECKING:
    from service.cancellation import Cancellation

# Measured on bench/quality.py's CNN/DM rows (see the module docstring).
LEAD_DECAY = 4.0  # sentences; lead weight of sentence i is exp(-i / LEAD_DECAY)
CENTRALITY_WEIGHT = 0.5
# PacSum's edge weights and threshold: backward similarity costs twice what forward earns;
# an edge counts from 60 % of the way between the article's weakest and strongest pair.
BACKWARD_WEIGHT, FORWARD_WEIGHT, EDGE_THRESHOLD = -2.0, 1.0, 0.6
MAX_SENTENCE_WORDS = 50
MIN_SENTENCE_WORDS = 5
# The lead is the first of this many sentences that can open a briefing (see lead_index);
# a line without its stop counts from this many words.
LEAD_WINDOW = 3
LEAD_MIN_WORDS = 15
# The short briefing's other sentences come from at most this many sentences after the lead.
SHORT_REACH = 3
# A sentence cut at a clause keeps at least this many words.
CLAUSE_MIN_WORDS = 6
# Centrality is computed over the leading sentences only, which bounds time and memory on
# a 200,000-character input; past these, the lead weight is ~0 and position alone ranks.
MAX_CENTRAL_SENTENCES = 400

_WORD = compile_words(r"[^\W_]+(?:['’][^\W_]+)?")
_STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it
    its of on or our she said says that the their them they this to was were which who will
    with would you we not no so than then there these those also after before about more
    most over under up out new one two""".split()
)
# Plural and inflection endings folded together ("shells"/"shell", "invested"/"invest"); a
# light touch that measured slightly better than none and needs no stemmer dependency.
_SUFFIXES = ("'s", "’s", "ing", "ed", "es", "s")
# Sentence punctuation with more text after it: where one line might hold two sentences.
_INNER_END = re.compile(r"[.!?…‽][\"'”’»)\]]*\s*\S")
# Where a long lead can be cut: after a clause ("…, officials said", "…; the rest").
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[–—-]\s")
# A sentence that is only a quotation: opens with a quote mark and ends closing one
# ("'That's hilarious.'"), with no "she said" after it.
# A list item's bullet, which a briefing in prose does not carry ("- Retiring early takes
# time." reads "Retiring early takes time.").
_BULLET = re.compile(r"^[-*•·–—]\s+")
_QUOTE_ONLY = re.compile(r"""^["'“‘«].*["'”’»][.!?…]?["'”’»]?$""", re.DOTALL)


@dataclass(frozen=True)
class Budget:
    """How much one kind of output may hold, and how it is filled.

    ``in_order``: after the lead, sentences in the article's order (usable ones first)
    rather than by rank. ``reach``: sentences after the lead that may be taken (None: any).
    ``trim_last``: when the best candidate does not fit, take it cut at a clause boundary.
    """

    max_words: int
    max_sentences: int | None = None
    in_order: bool = False
    reach: int | None = None
    trim_last: bool = False


# The defaults of the length rules in Settings (short: 2 sentences and 50 words, long: 200
# words), so the rules downstream never have to cut what this engine chose.
# How each kind is filled was measured on bench/quality.py's CNN/DM rows against the lead
# cut to the same length: the long, the article's order (its length rule aside), its last
# sentence cut at a clause (ending in "…") rather than skipped for a shorter one further
# down (R1 minus the lead at equal length: -0.06 [-0.28, +0.15] -> +0.02 [-0.10, +0.14]).
# The short, the lead and the best-ranked whole sentence near it that fits. Reader's choice:
# a clause of a longer sentence filled its words in 106 of 250 (R1 37.06, 41.1 words), but
# half a sentence in a one-line briefing (the one Slack shows) reads as broken or, closed
# with a stop, as the whole of it; whole sentences: R1 35.75 at 38.2 words, the lead cut
# to the same words 35.99 (-0.24 [-0.91, +0.39]).
DEFAULT_BUDGETS: Mapping[str, Budget] = MappingProxyType({
    "short": Budget(max_words=50, max_sentences=2, reach=SHORT_REACH),
    "long": Budget(max_words=200, in_order=True, trim_last=True),
    "reduce": Budget(max_words=100, max_sentences=4),
})
_OTHER_KIND = Budget(max_words=100, max_sentences=3)


def sentences_of(text: str) -> list[str]:
    """The sentences of ``text``, as ``split_sentences`` cuts them, in less time.

    The request path hands over one sentence per paragraph, so a paragraph of one line
    without sentence punctuation before its end is taken whole, without the splitter (pysbd
    is most of this engine's time); every other paragraph goes through ``split_sentences``,
    which also treats a blank line as a hard boundary, so the pieces add up to its answer.
    The two agree on every cleaned article bench/quality.py reads; on raw text they differ
    only where pysbd cuts without punctuation ("1) one 2) two" is one sentence here).
    """
    sentences: list[str] = []
    paragraph: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            paragraph.append(line)
            continue
        if len(paragraph) == 1 and not _INNER_END.search(paragraph[0]):
            sentences.append(paragraph[0].strip())
        elif paragraph:
            sentences.extend(split_sentences("\n".join(paragraph)))
        paragraph = []
    return sentences


@dataclass(frozen=True)
class Vocabulary:
    """How words become terms in one language: its stop words, and whether English
    endings are folded ("shells" and "shell")."""

    stop: frozenset[str]
    fold_endings: bool


ENGLISH = Vocabulary(_STOPWORDS, fold_endings=True)


def vocabulary_for(text: str) -> Vocabulary:
    """The vocabulary of ``text``'s language: English (measured with the weights above) for
    English or an undetermined language; else that language's stop words where there is a
    list (service.preprocess.language), and none where there is not."""
    language = detect_language(text)
    if not language.known or language.code == "en":
        return ENGLISH
    return Vocabulary(stop_words(language.code) or frozenset(), fold_endings=False)


def _terms(sentence: str, vocabulary: Vocabulary = ENGLISH) -> list[str]:
    terms = []
    for match in _WORD.findall(sentence):
        word = match.casefold()
        if word in vocabulary.stop:
            continue
        if vocabulary.fold_endings:
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                    word = word[: -len(suffix)]
                    break
        terms.append(word)
    return terms


def _similarities(sentences: Sequence[str], vocabulary: Vocabulary = ENGLISH) -> np.ndarray:
    """Cosine similarities of the sentences' TF-IDF vectors (sublinear tf), zero diagonal."""
    bags = [Counter(_terms(s, vocabulary)) for s in sentences]
    n = len(bags)
    df = Counter(term for bag in bags for term in bag)
    idf = {term: math.log((n + 1) / (count + 1)) + 1.0 for term, count in df.items()}
    # Only terms in two or more sentences can make two sentences similar, so only they get a
    # column; every term still counts in each sentence's norm.
    columns = {term: j for j, term in enumerate(t for t in df if df[t] > 1)}
    matrix = np.zeros((n, max(1, len(columns))))
    norms = np.zeros(n)
    for i, bag in enumerate(bags):
        for term, count in bag.items():
            weight = (1.0 + math.log(count)) * idf[term]
            norms[i] += weight * weight
            j = columns.get(term)
            if j is not None:
                matrix[i, j] = weight
    norms = np.sqrt(norms)
    norms[norms == 0] = 1.0
    matrix /= norms[:, None]
    sim = matrix @ matrix.T
    np.fill_diagonal(sim, 0.0)
    return sim


def _directed_centrality(sim: np.ndarray) -> np.ndarray:
    """PacSum: weighted similarity to later sentences minus to earlier ones, scaled 0..1."""
    n = len(sim)
    if n < 2:
        return np.zeros(n)
    pairs = sim[np.triu_indices(n, 1)]
    low, high = float(pairs.min()), float(pairs.max())
    edges = np.maximum(sim - (low + EDGE_THRESHOLD * (high - low)), 0.0)
    forward = np.triu(edges, 1).sum(axis=1)
    backward = np.tril(edges, -1).sum(axis=1)
    score = FORWARD_WEIGHT * forward + BACKWARD_WEIGHT * backward
    spread = float(score.max() - score.min())
    return (score - score.min()) / spread if spread > 0 else np.zeros(n)


def _fits(sentence: str, max_words: int) -> bool:
    """Could a briefing use this sentence as it is (length, punctuation, not only a quote)?"""
    words = len(sentence.split())
    return (
        MIN_SENTENCE_WORDS <= words <= max_words
        and is_complete(sentence)
        and not _QUOTE_ONLY.match(sentence)
    )


@dataclass(frozen=True)
class Ranking:
    """Sentence indices best first, and which sentences a briefing should use at all
    (``usable_long``: the same, the sentence-length rule aside, for the long briefing)."""

    order: list[int]
    usable: list[bool]
    usable_long: list[bool] | None = None


def rank(
    sentences: Sequence[str], *, max_sentence_words: int = MAX_SENTENCE_WORDS,
    vocabulary: Vocabulary = ENGLISH,
) -> Ranking:
    """The ranking of ``sentences`` (see the module docstring for the score and the rules).

    ``max_sentence_words``: longer sentences go behind the rest (benchmarks vary it).
    ``vocabulary``: the language's stop words (``vocabulary_for``).
    """
    n = len(sentences)
    score = np.exp(-np.arange(n) / LEAD_DECAY)
    usable = [_fits(s, max_sentence_words) for s in sentences]
    usable_long = [_fits(s, 10**9) for s in sentences]
    # The similarity graph holds the article's prose: a lede that repeats the headline
    # before it is not repeating the article (measured: ROUGE unchanged, ledes kept).
    prose = [i for i, s in enumerate(sentences) if is_complete(s)][:MAX_CENTRAL_SENTENCES]
    if prose:
        sim = _similarities([sentences[i] for i in prose], vocabulary)
        score[prose] += CENTRALITY_WEIGHT * _directed_centrality(sim)
        connected = sim.max(axis=1) > 0
        if len(prose) > 1 and connected.any():  # when nothing connects, that says nothing
            for k in np.flatnonzero(~connected):
                usable[prose[k]] = usable_long[prose[k]] = False
    # Usable first; then higher score; ties to the earlier sentence, so the order is total.
    order = sorted(range(n), key=lambda i: (not usable[i], -float(score[i]), i))
    return Ranking(order, usable, usable_long)


def rank_sentences(sentences: Sequence[str]) -> list[int]:
    """Indices of ``sentences``, best first."""
    return rank(sentences).order


@dataclass(frozen=True)
class Pick:
    """A sentence a briefing uses, the words it is cut to (None: whole), and whether it is
    the lead."""

    index: int
    cut_to: int | None = None
    lead: bool = False


def choose(
    sentences: Sequence[str], budget: Budget, ranking: Ranking | None = None
) -> list[Pick]:
    """The sentences (in article order) a briefing of ``budget`` uses.

    The lead comes first (see :func:`lead_index`), whatever its length or rank: news puts
    its point there, and a briefing that skips it reads like a later paragraph; one over
    the budget is cut to fit (``trim``). Then sentences that fit, usable ones before
    unusable ones (behind, not out): best-ranked first, or in the article's order
    (``budget.in_order``); within ``budget.reach`` of the lead, never from the tail to fill
    the words; a repeat of one taken (as the length rules compare them) is skipped. With
    ``budget.trim_last``, the best candidate that does not fit is cut at a clause instead.
    ``ranking`` is ``rank(sentences)``, when the caller already has it.
    """
    if ranking is None:
        ranking = rank(sentences)
    picks: list[Pick] = []
    seen: set[str] = set()
    words = 0
    lead = lead_index(sentences)
    if lead is None:  # the first sentences are labels or teasers: the first usable one
        lead = next((i for i, ok in enumerate(ranking.usable) if ok), None)
    if lead is not None:
        n = len(sentences[lead].split())
        picks.append(Pick(lead, budget.max_words if n > budget.max_words else None, lead=True))
        seen.add(paragraph_key(sentences[lead]))
        words = min(n, budget.max_words)
    if budget.in_order:
        # usable in the long briefing: the sentence-length rule is the short one's
        usable = ranking.usable_long if ranking.usable_long is not None else ranking.usable
        order = sorted(range(len(sentences)), key=lambda i: (not usable[i], i))
    else:
        order = ranking.order
        usable = ranking.usable
    reach = None if budget.reach is None else (lead or 0) + budget.reach
    for index in order:
        if budget.max_sentences is not None and len(picks) >= budget.max_sentences:
            break
        if reach is not None and index > reach:
            continue
        if budget.max_sentences is not None and not usable[index] and picks:
            break  # a few sentences: only usable ones (behind the rest they come last)
        key = paragraph_key(sentences[index])
        if key in seen:
            continue
        n = len(sentences[index].split())
        if words + n <= budget.max_words:
            picks.append(Pick(index))
        elif budget.trim_last and usable[index] and _clause_cut(
            sentences[index], budget.max_words - words
        ):
            picks.append(Pick(index, budget.max_words - words))
            n = budget.max_words - words
        else:
            continue
        seen.add(key)
        words += n
        if picks[-1].cut_to is not None and picks[-1].index != lead:
            break  # the budget is full
    if not picks and ranking.order:
        picks = [Pick(ranking.order[0])]
    return sorted(picks, key=lambda p: p.index)


def select(
    sentences: Sequence[str], budget: Budget, ranking: Ranking | None = None
) -> list[int]:
    """Indices (in article order) of the sentences :func:`choose` takes."""
    return [pick.index for pick in choose(sentences, budget, ranking)]


def lead_index(sentences: Sequence[str]) -> int | None:
    """The article's lead: the first of its first ``LEAD_WINDOW`` sentences that can open a
    briefing (a sentence, or a line of at least ``LEAD_MIN_WORDS`` words that lost its
    stop and is not in title case, as a headline would be; not a bare quotation or a
    question), or None."""
    for index, sentence in enumerate(sentences[:LEAD_WINDOW]):
        words = len(sentence.split())
        if _QUOTE_ONLY.match(sentence) or sentence.rstrip("\"'”’)]»").endswith("?"):
            continue
        if is_complete(sentence) or (words >= LEAD_MIN_WORDS and not _title_case(sentence)):
            return index
    return None


def _title_case(line: str) -> bool:
    long_words = [w for w in line.split() if len(w) >= 4 and w[0].isalpha()]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)


def _clause_cut(sentence: str, max_words: int) -> str | None:
    """``sentence``'s first words up to its last clause boundary (a comma, semicolon, colon
    or dash) within ``max_words``, when that keeps at least ``CLAUSE_MIN_WORDS`` words. Not
    inside a quotation: a cut there would leave it open ('"When a group is trying.')."""
    head = " ".join(sentence.split()[:max_words])
    cut = max((m.start() for m in _CLAUSE_END.finditer(head) if not _in_quote(head[:m.start()])),
              default=-1)
    if cut >= 0 and len(head[:cut].split()) >= CLAUSE_MIN_WORDS:
        return head[:cut].rstrip()
    return None


def _in_quote(text: str) -> bool:
    """Whether ``text`` ends inside a quotation (an opening mark not closed yet)."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def trim(sentence: str, max_words: int) -> str:
    """``sentence`` within ``max_words``: cut at a clause boundary (see _clause_cut), else at
    a word boundary, and ending in "…" either way: what is cut says so, never closed with a
    full stop as if it were the whole sentence."""
    if len(sentence.split()) <= max_words:
        return sentence
    clause = _clause_cut(sentence, max_words)
    if clause is not None:
        return clause + "…"
    return " ".join(sentence.split()[:max_words]).rstrip(",;:–—- ") + "…"


def _closed(sentence: str) -> str:
    """A lead that lost its stop, given one (the length rules keep whole sentences)."""
    return sentence if is_complete(sentence) else sentence.rstrip(",;:–—- ") + "."


def select_within(sentences: Sequence[str], costs: Sequence[int], budget: int) -> list[int]:
    """Indices (in article order) of the best-ranked sentences whose ``costs`` (tokens) add
    up to at most ``budget``: what a model reads of an article longer than its window
    (extract, then abstract). Taken best first; one that would overflow is skipped for a
    smaller one further down. Unlike ``select``, sentences a briefing would not quote (long,
    unpunctuated) still count: they carry content the model can use."""
    chosen: list[int] = []
    used = 0
    for index in rank(sentences).order:
        if used + costs[index] <= budget:
            chosen.append(index)
            used += costs[index]
    return sorted(chosen)


class ExtractiveEngine:
    """Sentence ranking over the cleaned text; deterministic and fast."""

    name = "extractive"
    model_id = ""
    # The version of the rules that pick and cut: part of the cache key, so briefings cached
    # under older rules miss (2: a cut sentence ends in "…"; the short takes whole ones).
    model_revision = "2"
    max_input_tokens = 10**9  # works on the whole text, never chunks

    def __init__(self, budgets: Mapping[str, Budget] | None = None) -> None:
        #: per kind; other kinds get ``_OTHER_KIND``
        self.budgets: Mapping[str, Budget] = budgets or DEFAULT_BUDGETS

    @classmethod
    def for_limits(
        cls, *, short_max_words: int, short_max_sentences: int, long_max_words: int
    ) -> ExtractiveEngine:
        """An engine whose short and long picks fit the configured length limits, so the
        length stage has nothing to cut (it cuts at sentence ends, and would drop a pick)."""
        return cls({
            **DEFAULT_BUDGETS,
            "short": dataclasses.replace(DEFAULT_BUDGETS["short"], max_words=short_max_words,
                                         max_sentences=short_max_sentences),
            "long": dataclasses.replace(DEFAULT_BUDGETS["long"], max_words=long_max_words),
        })

    def close(self) -> None:
        """Nothing held: no weights, threads or connections."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + max_tokens]) for i in range(0, len(words), max_tokens)]

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        """Sentences picked at once: nothing to cancel."""
        # The short and long requests share one text: split and rank it once.
        ranked: dict[str, tuple[list[str], Ranking]] = {}
        outputs = []
        for request in requests:
            if request.text not in ranked:
                sentences = sentences_of(request.text)
                vocabulary = vocabulary_for(request.text)
                ranked[request.text] = sentences, rank(sentences, vocabulary=vocabulary)
            outputs.append(self._compose(*ranked[request.text], request.prompt.kind))
        return outputs

    def extract(self, text: str, kind: str) -> str:
        """The briefing of ``kind`` (short, long, reduce) for ``text``."""
        sentences = sentences_of(text)
        return self._compose(sentences, rank(sentences, vocabulary=vocabulary_for(text)), kind)

    def _compose(self, sentences: list[str], ranking: Ranking, kind: str) -> str:
        budget = self.budgets.get(kind, _OTHER_KIND)
        parts = []
        for pick in choose(sentences, budget, ranking):
            text = _BULLET.sub("", sentences[pick.index], count=1)
            if pick.cut_to is not None:
                text = trim(text, pick.cut_to)
            parts.append(_closed(text) if pick.lead else text)
        return " ".join(parts)
