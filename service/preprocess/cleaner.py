"""Stage 5 of preprocessing, dedup: each paragraph, in order, against what is kept so far.

A paragraph is dropped when it repeats an earlier kept one (exact, or most of its word pairs
in one, without new names or numbers); otherwise the title at its head, furniture glued to its
sentences, and sentences that are furniture or repeat earlier text are cut, and what is left
is kept. :class:`Cleaner` holds one document's state; the index and keys it compares with
are in :mod:`service.preprocess.dedup`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass

from service.preprocess.boilerplate import ENDS_SENTENCE, boilerplate_rule, glued_furniture
from service.preprocess.dedup import (
    MIN_NEAR_WORDS,
    NearDuplicateIndex,
    Shingle,
    containment,
    paragraph_key,
    repeats,
    shingles,
)
from service.preprocess.sentences import split_sentences
from service.words import WORD

__all__ = ["COVERED_THRESHOLD", "MIN_SENTENCE_WORDS", "Cleaner", "Removal"]

# Sentences with fewer words are never removed as repeats: "He said no." may be said twice.
MIN_SENTENCE_WORDS = 4
# A sentence nearly all of whose word pairs are somewhere in the text kept so far (if not
# in one paragraph) repeats it: a repeated article whose sentences the splitter runs together
# differently, or a sentence that repeats the end of one paragraph and the start of the next.
COVERED_THRESHOLD = 0.9
# A first paragraph of 4 to 30 words without sentence punctuation is the title.
_TITLE_WORDS = (4, 30)
# Separators a scraper leaves between a glued title and the text ("Title - Text", "Title: Text").
_TITLE_GLUE = " \t-–—:|·•"
# A paragraph still changing after this many cleaning passes is kept as the last pass left it.
_MAX_PASSES = 3


@dataclass(frozen=True)
class Removal:
    """One piece of text preprocessing removed, and why (``briefing preprocess --json``)."""

    reason: str
    text: str




@dataclass
class _Unit:
    """A paragraph or sentence as dedup compares it."""

    text: str
    key: str
    words: int
    shingles: frozenset[Shingle]
    near: bool  # long enough to be compared by similarity, not only exactly

    @classmethod
    def of(cls, text: str, key: str | None = None) -> _Unit:
        """``key``: the :func:`paragraph_key` of ``text``, when known."""
        if key is None:
            key = paragraph_key(text)
        words = key.count(" ") + 1 if key else 0
        return cls(text, key, words, shingles(key), words >= MIN_NEAR_WORDS)

    def adds_facts_to(self, words: Set[str], numbers: Set[str], *, typos: bool = True) -> bool:
        """Whether this text has a number, or a name, that other text lacks (``words``:
        its :func:`paragraph_key` words; ``numbers``: its numbers as digits).

        Such a text is new even when most of its word pairs are not: templated lines
        ("Ali Gabr (Egypt) wins a free kick", "Shares in Tesco rose 2%") differ in little
        but the facts. Scrapers' edits add neither; with ``typos``, a name misspelt by one
        letter (a typo, two letters swapped) is the same name (``words`` should then be
        one text's, not a whole document's: each new name is compared with every word).
        """
        own_numbers, names = _facts(self.text)
        if not own_numbers <= numbers:
            return True
        return any(
            name not in words and not (typos and any(_one_edit(name, w) for w in words))
            for name in names
        )


@dataclass
class _Pass:
    """What one cleaning pass over a paragraph decided (committed only when kept)."""

    text: str | None  # None: the whole paragraph goes
    sentences: list[str]
    units: list[_Unit]
    removed: list[Removal]
    counts: dict[str, int]


class Cleaner:
    """Dedup state for one document: the paragraphs and sentences kept so far.

    Each paragraph is cleaned in passes until a pass changes nothing, and only then are its
    paragraph and sentences added to what later paragraphs are compared with. A kept
    paragraph is therefore one that a fresh run on the cleaned text keeps unchanged: every
    decision compares a text only with text that is kept.
    """

    def __init__(
        self, paragraphs: list[str], threshold: float, keys: dict[str, str] | None = None,
        titles: Sequence[str] = (),
    ) -> None:
        """``titles``: the headline as known (removed before this stage); otherwise the first
        paragraph when it reads as a title. Copies glued to the start of a paragraph go."""
        self._units: dict[str, _Unit] = {}
        self._keys = keys or {}  # paragraph_key of texts known up front
        self.threshold = threshold
        self.paragraph_keys: set[str] = set()
        self.paragraph_index = NearDuplicateIndex(threshold)
        self.paragraph_texts: list[str] = []
        self.sentence_keys: set[str] = set()
        self.short_keys: set[str] = set()  # sentences too short to be removed as repeats
        # Words and numbers of everything kept, for facts not seen yet: gathered only when
        # asked for (rarely), from the kept paragraphs not gathered yet.
        self._kept_words: set[str] = set()
        self._kept_numbers: set[str] = set()
        self._ungathered: list[_Unit] = []
        first = _title(paragraphs)
        self.titles = [t for t in dict.fromkeys((*titles, first)) if t]
        self.removed: list[Removal] = []
        self.counts = dict.fromkeys(("exact", "near", "sentence", "title", "boilerplate"), 0)

    def unit(self, text: str) -> _Unit:
        """The comparison unit of ``text``, computed once per distinct text."""
        found = self._units.get(text)
        if found is None:
            found = self._units[text] = _Unit.of(text, self._keys.get(text))
        return found

    def clean(self, paragraph: str) -> tuple[str, list[str]] | None:
        """The paragraph as kept and its sentences, or None when it is dropped."""
        removed: list[Removal] = []
        counts = dict.fromkeys(self.counts, 0)
        text = paragraph
        for number in range(1, _MAX_PASSES + 1):
            step = self._pass(text, first=number == 1)
            if step.text is None:
                # Dropped: report the whole paragraph once, not what earlier passes cut.
                removed = [Removal(step.removed[0].reason, paragraph)]
                counts = step.counts
                break
            removed += step.removed
            for name, n in step.counts.items():
                counts[name] += n
            if not step.removed:
                break  # this pass cut nothing: a fresh run keeps the text as it is
            text = step.text
        self.removed += removed
        for name, n in counts.items():
            self.counts[name] += n
        if step.text is None:
            return None
        self._commit(step)
        return step.text, step.sentences

    def _pass(self, paragraph: str, *, first: bool) -> _Pass:
        removed: list[Removal] = []
        counts = dict.fromkeys(self.counts, 0)

        def drop(reason: str, count: str) -> _Pass:
            counts[count] += 1
            return _Pass(None, [], [], [Removal(reason, paragraph)], counts)

        unit = self.unit(paragraph)
        if unit.key in self.paragraph_keys:
            return drop("exact duplicate", "exact")
        if unit.near:
            match = self.paragraph_index.find(unit.shingles, self._no_new_facts(unit))
            if match is not None:
                earlier = self.unit(self.paragraph_texts[match])
                share = containment(unit.shingles, earlier.shingles)
                return drop(f"near duplicate ({share:.0%} in an earlier paragraph)", "near")
        if not first:
            rule = boilerplate_rule(paragraph)
            if rule is not None:
                return drop(f"boilerplate: {rule}", "boilerplate")
        text = paragraph
        cut = True
        while cut:
            cut = False
            for title in self.titles:
                for head in _title_heads(text, title):
                    removed.append(Removal("repeated title", head))
                    counts["title"] += 1
                    text = text[len(head) :]
                    cut = True
        kept: list[tuple[int, int]] = []  # spans of the sentences kept, in ``text``
        units: list[_Unit] = []
        for start, end in _spans(text, split_sentences(text)):
            glued = glued_furniture(text[start:end])
            if glued:
                removed.append(Removal("boilerplate: glued to a sentence", glued.strip()))
                counts["boilerplate"] += 1
                start += len(glued)
            sentence = text[start:end]
            reason, sentence_unit = self._sentence_reason(sentence, units)
            if reason is None:
                kept.append((start, end))
                units.append(sentence_unit)
            else:
                removed.append(Removal(reason, sentence))
                counts["boilerplate" if reason.startswith("boilerplate") else "sentence"] += 1
        sentences = [text[a:b] for a, b in kept]
        if all(u.words < MIN_SENTENCE_WORDS and u.key in self.short_keys for u in units):
            # Nothing new is left: every sentence was cut, or is a short one said before.
            if counts["sentence"] or units:
                return drop("repeats earlier sentences", "near")
            return drop("boilerplate: every sentence", "boilerplate")
        return _Pass(_join(text, kept), sentences, units, removed, counts)

    def _sentence_reason(self, sentence: str, local: list[_Unit]) -> tuple[str | None, _Unit]:
        """Why ``sentence`` goes (None: it stays), given the paragraph's sentences so far."""
        unit = self.unit(sentence)
        rule = boilerplate_rule(sentence, standalone=False)
        if rule is not None:
            return f"boilerplate: {rule}", unit
        if unit.words < MIN_SENTENCE_WORDS:
            return None, unit
        if unit.key in self.sentence_keys or any(u.key == unit.key for u in local):
            return "duplicate sentence", unit
        # A sentence's bigrams are among its paragraph's, so a sentence that nearly repeats
        # an earlier sentence nearly repeats that sentence's paragraph: one index of kept
        # paragraphs answers both (and also catches a sentence that the splitter cut
        # differently this time, as two sentences of that paragraph run together).
        if unit.near and (
            self.paragraph_index.find(unit.shingles, self._no_new_facts(unit)) is not None
            or any(repeats(unit.shingles, u.shingles, self.threshold)
                   and not unit.adds_facts_to(set(u.key.split()), _numbers(u.text))
                   for u in local)
        ):
            return "near-duplicate sentence", unit
        if (
            unit.near
            and self.paragraph_index.covered(unit.shingles) >= COVERED_THRESHOLD
            and not unit.adds_facts_to(*self._kept_facts(), typos=False)
        ):
            return "repeats earlier paragraphs", unit
        return None, unit

    def _kept_facts(self) -> tuple[set[str], set[str]]:
        """The words (of keys) and the numbers of every paragraph kept so far."""
        for unit in self._ungathered:
            self._kept_words.update(unit.key.split())
            self._kept_numbers.update(_numbers(unit.text))
        self._ungathered.clear()
        return self._kept_words, self._kept_numbers

    def _no_new_facts(self, unit: _Unit) -> Callable[[int], bool]:
        """Accepts a kept paragraph (by index) that has every name and number of ``unit``."""

        def accept(index: int) -> bool:
            earlier = self.paragraph_texts[index]
            return not unit.adds_facts_to(set(self.unit(earlier).key.split()),
                                          _numbers(earlier))

        return accept

    def _commit(self, step: _Pass) -> None:
        assert step.text is not None
        unit = self.unit(step.text)
        self._ungathered.append(unit)
        self.paragraph_keys.add(unit.key)
        self.paragraph_texts.append(step.text)
        self.paragraph_index.add(unit.shingles)  # its slot matches paragraph_texts
        for sentence_unit in step.units:
            if sentence_unit.words < MIN_SENTENCE_WORDS:
                self.short_keys.add(sentence_unit.key)
                continue
            self.sentence_keys.add(sentence_unit.key)


_NUMBER = re.compile(r"\d(?:[\d,.:]*\d)?")
_NAME = re.compile(r"\b[A-Z][\w'’-]*")


def _numbers(text: str) -> set[str]:
    """The numbers of ``text`` as digit strings ("£1,000" and "1000" are both "1000")."""
    # (_NUMBER's only characters other than digits are the separators.)
    return {n.replace(",", "").replace(".", "").replace(":", "") for n in _NUMBER.findall(text)}


def _facts(text: str) -> tuple[set[str], set[str]]:
    """Numbers (as digits) and capitalised words (as key words) of ``text``; its first word
    is capitalised only because it comes first and does not count."""
    names = _NAME.findall(text)
    first = _WORD.search(text)
    if names and first is not None and names[0] == first.group():
        names = names[1:]
    words = {w for name in names for w in paragraph_key(name).split() if not w.isdigit()}
    return _numbers(text), words


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one letter added, dropped, changed, or two letters
    swapped (words of at least four letters only)."""
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    )


def _spans(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Where each sentence is in ``text`` (the splitter returns slices of it, in order)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in sentences:
        start = text.find(sentence, cursor)
        if start < 0:  # not a slice after all: take the paragraph as one sentence
            return [(0, len(text))]
        cursor = start + len(sentence)
        spans.append((start, cursor))
    return spans


def _join(text: str, spans: list[tuple[int, int]]) -> str:
    """The kept sentences of ``text`` as one paragraph.

    Sentences that were next to each other keep what was between them (one space, or
    nothing where the source glued them: "community.Dr Venter"), so a paragraph that lost
    nothing is left exactly as it was; one space stands where something was cut.
    """
    parts: list[str] = []
    previous_end = -1
    for start, end in spans:
        if parts:
            parts.append(text[previous_end:start] if start - previous_end <= 1 else " ")
        parts.append(text[start:end])
        previous_end = end
    return "".join(parts)


def _title(paragraphs: list[str]) -> str | None:
    """The first paragraph when it reads as a title: a few words, no sentence punctuation."""
    if not paragraphs:
        return None
    first = paragraphs[0]
    low, high = _TITLE_WORDS
    if low <= len(first.split()) <= high and not ENDS_SENTENCE.search(first):
        return first
    return None


def _title_heads(text: str, title: str | None) -> Iterator[str]:
    """Leading copies of the title glued to the start of ``text`` ("Title Text begins …").

    Cut only when the title is followed by more than a few words that start like a sentence
    (capital, digit or quote), so a first sentence that begins with the headline's words
    ("NATO allies need more shells, Stoltenberg said.") is left whole.
    """
    if title is None:
        return
    words = paragraph_key(title).split()
    rest = text
    while True:
        matched = _match_words(rest, words)
        if matched is None:
            return
        tail = rest[matched:]
        after = tail.lstrip(_TITLE_GLUE)
        if len(after.split()) < 4 or not (after[0].isupper() or after[0].isdigit()
                                          or after[0] in "\"'“‘("):
            return
        head = rest[: len(rest) - len(after)]
        yield head
        rest = after


_WORD = WORD


def _match_words(text: str, words: list[str]) -> int | None:
    """End offset of ``words`` matched (case-folded) at the start of ``text``, or None."""
    pos = 0
    for word in words:
        match = _WORD.search(text, pos)
        if match is None or match.group().casefold() != word:
            return None
        if text[pos : match.start()].strip(_TITLE_GLUE + "\"'“”‘’()[].,;!?"):
            return None  # something other than punctuation between title words
        pos = match.end()
    return pos
