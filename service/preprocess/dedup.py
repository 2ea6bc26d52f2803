"""Find repeated paragraphs and sentences inside one article, exact and near.

Scrapers emit the title twice, the whole body twice, and paragraphs again with small
differences (spacing, quotes, a word dropped); the model would otherwise spend its window,
and its attention, on the same text again.

A text *exactly* repeats an earlier one when their :func:`paragraph_key` is equal: case,
punctuation, quotes and spacing do not make a new paragraph. A paragraph or sentence of at
least ``MIN_NEAR_WORDS`` words *nearly* repeats an earlier kept paragraph when at least
``NEAR_THRESHOLD`` of its word bigrams are in that one (containment): an edited copy, or a
part of it, adds nothing; a text that extends it does. The threshold was measured by
bench/preprocess.py on edited copies of real articles, against distinct sentences and
extensions from the same articles.

Why exact sets and not MinHash: MinHash (and LSH over it) estimates set similarity for
collections too large to compare; one article has at most a few thousand paragraphs and
sentences, and an index with prefix filtering (Bayardo et al., "Scaling up all pairs
similarity search", 2007) finds every pair over the threshold exactly, faster than
computing MinHash signatures, with no estimation error blurring the threshold, and with a
decision that depends only on the two texts (so cleaning cleaned text changes nothing).
bench/preprocess.py compares the two.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from service.words import WORD

__all__ = [
    "MIN_NEAR_WORDS",
    "NEAR_THRESHOLD",
    "SHINGLE_WORDS",
    "NearDuplicateIndex",
    "containment",
    "repeats",
    "paragraph_key",
    "shingles",
]

_WORD_RUN = WORD

# Shingles are word n-grams of this many words.
SHINGLE_WORDS = 2
# Jaccard similarity of shingle sets at or above which two texts are near duplicates.
NEAR_THRESHOLD = 0.8
# Texts with fewer words are compared exactly only: one dropped word changes too much of a
# short text for similarity to tell an edit from a different sentence.
MIN_NEAR_WORDS = 8


def paragraph_key(paragraph: str) -> str:
    """Comparison key: case, punctuation and spacing differences do not make a new paragraph.

    A paragraph with no word characters at all (emoji, symbols) is its own key, so it is
    kept once rather than mistaken for a duplicate of every other such paragraph.
    """
    folded = paragraph.casefold()
    return " ".join(_WORD_RUN.findall(folded)) or " ".join(folded.split())


# A word n-gram, its words joined by single spaces (a key's words hold no spaces). Strings
# rather than tuples: a document makes tens of thousands, and tuples, which the garbage
# collector tracks, made its passes a fifth of preprocessing time (bench/preprocess.py).
Shingle = str


def shingles(key: str, n: int = SHINGLE_WORDS) -> frozenset[Shingle]:
    """Word ``n``-grams of a key (all its words as one when there are fewer than ``n``)."""
    words = key.split()
    if len(words) <= n:
        return frozenset([" ".join(words)]) if words else frozenset()
    if n == 2:
        return frozenset(map(" ".join, zip(words, words[1:], strict=False)))
    return frozenset(map(" ".join, zip(*(words[i:] for i in range(n)), strict=False)))


class NearDuplicateIndex:
    """Shingle sets kept so far; answers "is most of this set inside one of them?" exactly.

    A set ``A`` repeats a kept set ``B`` when at least ``threshold`` of its shingles are
    in ``B`` (containment, ``|A ∩ B| / |A|``): an edited copy of ``B``, or a part of it, adds
    nothing, while a text that extends ``B`` with as much again is new and stays. (Jaccard
    similarity would drop that extension: ``B`` plus one as long again scores 0.5.)

    Prefix filtering (Bayardo et al. 2007): if ``|A ∩ B| >= c·|A|``, then at most
    ``|A| - ceil(c·|A|)`` shingles of ``A`` are not in ``B``, so any ``|A| - ceil(c·|A|) + 1``
    of them hold one of ``B``'s. Every shingle of a kept set is indexed; a query takes those
    of its shingles that no kept set holds (it matches nothing when it has that many: most new
    text), then those that only one kept set holds, then others; looks up their lists and
    verifies each candidate exactly.
    """

    def __init__(self, threshold: float) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self._sets: list[frozenset[Shingle]] = []
        # Postings: the first kept set holding each shingle, and the later ones apart (most
        # shingles are in one set only, and a dict of ints fills at C speed).
        self._first: dict[Shingle, int] = {}
        self._more: defaultdict[Shingle, list[int]] = defaultdict(list)
        # Every shingle kept. (Not the postings' keys: a set intersected with a dict walks
        # the whole dict, where one set with another walks the smaller.)
        self._seen: set[Shingle] = set()

    def find(
        self, items: frozenset[Shingle], accept: Callable[[int], bool] | None = None
    ) -> int | None:
        """Index of the first kept set that holds at least ``threshold`` of ``items`` (and
        that ``accept`` accepts), or None."""
        if not items:
            return None
        needed = _needed(self.threshold, len(items))
        size = len(items) - needed + 1  # any this many of ``items`` hold one of a match's
        # Shingles no kept set holds find no candidates: a text with ``size`` of them (most
        # new text) matches nothing, and otherwise they are the start of its prefix.
        seen = items & self._seen
        size -= len(items) - len(seen)
        if size <= 0:
            return None
        first, more = self._first, self._more
        prefix = sorted(seen, key=more.__contains__)[:size]  # one set's shingles first
        candidates = {first[shingle] for shingle in prefix}
        for shingle in prefix:
            candidates.update(more.get(shingle, ()))
        for index in sorted(candidates):
            if len(items & self._sets[index]) >= needed and (accept is None or accept(index)):
                return index
        return None

    def covered(self, items: frozenset[Shingle]) -> float:
        """Share of ``items`` found in any kept set (1.0 for an empty set)."""
        return len(items & self._seen) / len(items) if items else 1.0

    def add(self, items: frozenset[Shingle]) -> int:
        index = len(self._sets)
        self._sets.append(items)
        held = items & self._seen  # shingles an earlier set holds too
        new = items.difference(held) if held else items
        self._seen.update(new)
        self._first.update(dict.fromkeys(new, index))
        more = self._more
        for shingle in held:
            more[shingle].append(index)
        return index


def containment(a: frozenset[Shingle], b: frozenset[Shingle]) -> float:
    """Share of ``a``'s shingles that are in ``b``."""
    return len(a & b) / len(a) if a else 1.0


def repeats(a: frozenset[Shingle], b: frozenset[Shingle], threshold: float) -> bool:
    """Whether ``a`` nearly repeats ``b``: at least ``threshold`` of its shingles are in ``b``
    (the test :class:`NearDuplicateIndex` applies)."""
    return bool(a) and len(a & b) >= _needed(threshold, len(a))


def _needed(threshold: float, size: int) -> int:
    """Shingles of a set of ``size`` that must be in another for it to repeat that one."""
    return max(1, math.ceil(threshold * size - 1e-9))

