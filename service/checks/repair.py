"""Repair a briefing whose sentences hold facts the article does not support.

The checker (:func:`service.checks.find_unsupported`) says which sentences name a number,
date or name the article lacks. Repairing removes them from what is delivered: each such
sentence is replaced by the article's own closest sentence (most of its content words in
common, see :func:`closest_sentence`), or dropped when no article sentence is close enough,
is already in the briefing, or the briefing is in another language than the article
(``replace=False``). The llm engine is first asked once more, naming what the article does
not say (service/briefing.py); this is what follows when that does not mend it, and all
there is for the seq2seq engine. ``bench/repair.py`` measures it on FRANK's human labels.

Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from service.checks import Unsupported, find_unsupported
from service.checks.facts import SourceFacts
from service.checks.text import _split_sentences
from service.preprocess.language import stop_words
from service.words import WORD

# A replacement shares at least this much (cosine over content-word sets) with the sentence
# it replaces; below it the sentence is dropped (bench/repair.py: the trade-off).
MIN_SIMILARITY = 0.35

__all__ = ["MIN_SIMILARITY", "Repaired", "closest_sentence", "repair_text"]


@dataclass(frozen=True)
class Repaired:
    """One sentence repaired: ``replaced`` by ``replacement`` (the article's) or ``dropped``."""

    sentence: str
    missing: list[str]
    action: str  # "replaced" or "dropped"
    replacement: str | None = None

    def as_dict(self) -> dict:
        out: dict = {"action": self.action, "sentence": self.sentence,
                     "missing": list(self.missing)}
        if self.replacement is not None:
            out["replacement"] = self.replacement
        return out


def _content_words(text: str, stops: frozenset[str]) -> set[str]:
    return {w for w in (t.lower() for t in WORD.findall(text)) if len(w) > 1 and w not in stops}


def closest_sentence(
    sentence: str, candidates: Sequence[str], *, stops: frozenset[str] = frozenset(),
    exclude: Sequence[str] = (),
) -> tuple[str | None, float]:
    """The candidate with the most content words in common with ``sentence`` (cosine over
    the two sets of words), and that score; ``exclude``: sentences not to pick."""
    want = _content_words(sentence, stops)
    if not want:
        return None, 0.0
    skip = {" ".join(e.split()) for e in exclude}
    best, score = None, 0.0
    for candidate in candidates:
        if " ".join(candidate.split()) in skip:
            continue
        have = _content_words(candidate, stops)
        if not have:
            continue
        s = len(want & have) / math.sqrt(len(want) * len(have))
        if s > score:
            best, score = candidate, s
    return best, score


def repair_text(
    text: str, source: str, found: Sequence[Unsupported], *, source_sentences: Sequence[str],
    facts: SourceFacts | None = None, replace: bool = True, language: str = "en",
    min_similarity: float = MIN_SIMILARITY,
) -> tuple[str, list[Repaired]]:
    """``text`` with each unsupported sentence of ``found`` replaced by the article's
    closest sentence (``replace``) or dropped; and what was done. A replacement is checked
    too (a source sentence is supported by construction, but the check is cheap)."""
    stops = stop_words(language) or frozenset()
    facts = facts or SourceFacts.from_text(source)
    done: list[Repaired] = []
    sentences = _split_sentences(text)
    by_sentence = {item.sentence: item for item in found}
    kept: list[str] = []
    for sentence in sentences:
        item = by_sentence.get(sentence)
        if item is None:
            kept.append(sentence)
            continue
        replacement = None
        if replace:
            best, score = closest_sentence(sentence, source_sentences, stops=stops,
                                           exclude=[*sentences, *kept])
            if best is not None and score >= min_similarity and not find_unsupported(
                best, source, facts=facts
            ):
                replacement = best
        if replacement is not None:
            kept.append(replacement)
            done.append(Repaired(sentence, item.missing, "replaced", replacement))
        else:
            done.append(Repaired(sentence, item.missing, "dropped"))
    # A sentence the checker reported that the splitter here cuts differently: removed whole.
    repaired = " ".join(kept)
    for item in found:
        if item.sentence not in sentences and item.sentence in repaired:
            repaired = repaired.replace(item.sentence, " ")
            done.append(Repaired(item.sentence, item.missing, "dropped"))
    return " ".join(repaired.split()), done
