"""Extractive engine: picks the article's most central sentences; needs no model weights.

It serves when no model is available (``BRIEFING_ENGINE=auto`` falls back to it) and is the
baseline in benchmarks. Ranking: each sentence is scored by the summed document frequency of
its content words (a centrality proxy), with a boost for the lead, the strongest single
signal in news; the chosen sentences are returned in article order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from service.engines.base import GenerationRequest
from service.lengths import is_complete
from service.preprocess import split_sentences

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it
    its of on or our she said says that the their them they this to was were which who will
    with would you we not no so than then there these those also after before about more
    most over under up out new one two""".split()
)
# How many sentences each kind may use; words are bounded by the length rules downstream.
_SENTENCES_PER_KIND = {"short": 2, "long": 8, "reduce": 4}


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.casefold() for m in _WORD.findall(sentence)) if w not in _STOPWORDS]


def rank_sentences(sentences: Sequence[str]) -> list[int]:
    """Indices of ``sentences``, best first."""
    bags = [_content_words(s) for s in sentences]
    df: Counter[str] = Counter(w for bag in bags for w in set(bag))
    scores = []
    for index, bag in enumerate(bags):
        if not bag:
            scores.append((-1.0, index))
            continue
        centrality = sum(df[w] for w in set(bag)) / math.sqrt(len(bag))
        lead = 1.0 + 1.0 / (1 + index)  # earlier sentences weigh more
        scores.append((centrality * lead, index))
    scores.sort(key=lambda item: (-item[0], item[1]))
    return [index for _, index in scores]


class ExtractiveEngine:
    """Sentence ranking over the cleaned text; deterministic and fast."""

    name = "extractive"
    model_id = ""
    model_revision = ""
    max_input_tokens = 10**9  # works on the whole text, never chunks

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + max_tokens]) for i in range(0, len(words), max_tokens)]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        return [self._extract(r.text, r.prompt.kind) for r in requests]

    def _extract(self, text: str, kind: str) -> str:
        sentences = split_sentences(text)
        # Headlines and bylines (no terminal punctuation) are not briefing sentences, and
        # would glue onto the next sentence when the output is re-segmented.
        complete = [s for s in sentences if is_complete(s)]
        sentences = complete or sentences
        if not sentences:
            return ""
        budget = _SENTENCES_PER_KIND.get(kind, 3)
        chosen = sorted(rank_sentences(sentences)[:budget])
        return " ".join(sentences[i] for i in chosen)
