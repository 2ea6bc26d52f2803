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

Selection (``select``): best-ranked sentences that fit the kind's word and sentence budget,
returned in article order, so the briefing reads like the article. Redundancy removal (MMR)
on top of this measured as a small loss: step 2 already penalizes repeating earlier text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from service.engines.base import GenerationRequest
from service.lengths import is_complete
from service.preprocess import split_sentences
from service.preprocess.dedup import paragraph_key

# Measured on bench/quality.py's CNN/DM rows (see the module docstring).
LEAD_DECAY = 4.0  # sentences; lead weight of sentence i is exp(-i / LEAD_DECAY)
CENTRALITY_WEIGHT = 0.5
# PacSum's edge weights and threshold: backward similarity costs twice what forward earns;
# an edge counts from 60 % of the way between the article's weakest and strongest pair.
BACKWARD_WEIGHT, FORWARD_WEIGHT, EDGE_THRESHOLD = -2.0, 1.0, 0.6
MAX_SENTENCE_WORDS = 50
MIN_SENTENCE_WORDS = 5
# Centrality is computed over the leading sentences only, which bounds time and memory on
# a 200,000-character input; past these, the lead weight is ~0 and position alone ranks.
MAX_CENTRAL_SENTENCES = 400

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
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
# A sentence that is only a quotation: opens with a quote mark and ends closing one
# ("'That's hilarious.'"), with no "she said" after it.
_QUOTE_ONLY = re.compile(r"""^["'“‘«].*["'”’»][.!?…]?["'”’»]?$""", re.DOTALL)


@dataclass(frozen=True)
class Budget:
    """How much one kind of output may hold."""

    max_words: int
    max_sentences: int | None = None


# The defaults of the length rules in Settings (short: 2 sentences and 50 words, long: 200
# words), so the rules downstream never have to cut what this engine chose.
DEFAULT_BUDGETS: Mapping[str, Budget] = MappingProxyType({
    "short": Budget(max_words=50, max_sentences=2),
    "long": Budget(max_words=200),
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


def _terms(sentence: str) -> list[str]:
    terms = []
    for match in _WORD.findall(sentence):
        word = match.casefold()
        if word in _STOPWORDS:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        terms.append(word)
    return terms


def _similarities(sentences: Sequence[str]) -> np.ndarray:
    """Cosine similarities of the sentences' TF-IDF vectors (sublinear tf), zero diagonal."""
    bags = [Counter(_terms(s)) for s in sentences]
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
    """Sentence indices best first, and which sentences a briefing should use at all."""

    order: list[int]
    usable: list[bool]


def rank(sentences: Sequence[str], *, max_sentence_words: int = MAX_SENTENCE_WORDS) -> Ranking:
    """The ranking of ``sentences`` (see the module docstring for the score and the rules).

    ``max_sentence_words``: longer sentences go behind the rest (benchmarks vary it).
    """
    n = len(sentences)
    score = np.exp(-np.arange(n) / LEAD_DECAY)
    usable = [_fits(s, max_sentence_words) for s in sentences]
    # The similarity graph holds the article's prose: a lede that repeats the headline
    # before it is not repeating the article (measured: ROUGE unchanged, ledes kept).
    prose = [i for i, s in enumerate(sentences) if is_complete(s)][:MAX_CENTRAL_SENTENCES]
    if prose:
        sim = _similarities([sentences[i] for i in prose])
        score[prose] += CENTRALITY_WEIGHT * _directed_centrality(sim)
        connected = sim.max(axis=1) > 0
        if len(prose) > 1 and connected.any():  # when nothing connects, that says nothing
            for k in np.flatnonzero(~connected):
                usable[prose[k]] = False
    # Usable first; then higher score; ties to the earlier sentence, so the order is total.
    order = sorted(range(n), key=lambda i: (not usable[i], -float(score[i]), i))
    return Ranking(order, usable)


def rank_sentences(sentences: Sequence[str]) -> list[int]:
    """Indices of ``sentences``, best first."""
    return rank(sentences).order


def select(
    sentences: Sequence[str], budget: Budget, ranking: Ranking | None = None
) -> list[int]:
    """Indices (in article order) of the best-ranked sentences that fit in ``budget``.

    Sentences are taken best first while they fit; one that would overflow the words is
    skipped for a shorter one further down, and a repeat of one taken (as the length rules
    compare them) is skipped. Only usable sentences are taken, unless none is: then the
    best one alone, and the length rules downstream shorten it visibly.
    ``ranking`` is ``rank(sentences)``, when the caller already has it.
    """
    if ranking is None:
        ranking = rank(sentences)
    chosen: list[int] = []
    seen: set[str] = set()
    words = 0
    for index in ranking.order:
        if budget.max_sentences is not None and len(chosen) >= budget.max_sentences:
            break
        if not ranking.usable[index]:
            break  # the order puts every usable sentence first
        n = len(sentences[index].split())
        key = paragraph_key(sentences[index])
        if words + n <= budget.max_words and key not in seen:
            chosen.append(index)
            seen.add(key)
            words += n
    if not chosen and ranking.order:
        chosen = [ranking.order[0]]
    return sorted(chosen)


class ExtractiveEngine:
    """Sentence ranking over the cleaned text; deterministic and fast."""

    name = "extractive"
    model_id = ""
    model_revision = ""
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
            "short": Budget(max_words=short_max_words, max_sentences=short_max_sentences),
            "long": Budget(max_words=long_max_words),
        })

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + max_tokens]) for i in range(0, len(words), max_tokens)]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        # The short and long requests share one text: split and rank it once.
        ranked: dict[str, tuple[list[str], Ranking]] = {}
        outputs = []
        for request in requests:
            if request.text not in ranked:
                sentences = sentences_of(request.text)
                ranked[request.text] = sentences, rank(sentences)
            outputs.append(self._compose(*ranked[request.text], request.prompt.kind))
        return outputs

    def extract(self, text: str, kind: str) -> str:
        """The briefing of ``kind`` (short, long, reduce) for ``text``."""
        sentences = sentences_of(text)
        return self._compose(sentences, rank(sentences), kind)

    def _compose(self, sentences: list[str], ranking: Ranking, kind: str) -> str:
        budget = self.budgets.get(kind, _OTHER_KIND)
        return " ".join(sentences[i] for i in select(sentences, budget, ranking))
