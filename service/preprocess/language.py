"""The language an article is written in, detected offline, and its stop words.

Why py3langid: its model (langid.py's naive Bayes over byte n-grams, 97 languages) ships
inside its PyPI wheel (4.6 MB, numpy only), so nothing is downloaded at run time, and a
classification takes about 0.1-0.5 ms once the model is loaded (once per process, a few
seconds). lingua is more accurate on very short text but its models for all languages are
an order of magnitude larger; for whole articles the two agree (bench/pages.py prints what
py3langid finds on the pages). Stop words come from the ``stop-words`` package (33
languages); English keeps the extractive engine's own list, measured with its weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["UNDETERMINED", "Language", "detect_language", "load_identifier", "stop_words"]

# ISO 639 "undetermined": too little text, or no language clearly ahead.
UNDETERMINED = "und"
# Looked at: the start of the text is enough for a whole article and bounds the time.
_SAMPLE_CHARS = 3_000
# Fewer words than this say too little about the language to name it.
_MIN_WORDS = 8
# A language is named only when the detector gives it at least this probability.
_MIN_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Language:
    """An ISO 639-1 code ("en", "de"; ``UNDETERMINED`` when unsure) and how sure."""

    code: str
    confidence: float

    @property
    def known(self) -> bool:
        return self.code != UNDETERMINED


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_identifier() -> None:
    """Load the detector's model now (a start does, on a thread beside the seq2seq model:
    most of its ~0.4 s is decompression, which lets other threads run)."""
    _identifier()


def detect_language(text: str) -> Language:
    """The language of ``text`` (its first few thousand characters)."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.split()) < _MIN_WORDS and not _is_unspaced(sample):
        return Language(UNDETERMINED, 0.0)
    code, confidence = _identifier().classify(sample)
    confidence = float(confidence)
    if confidence < _MIN_CONFIDENCE:
        return Language(UNDETERMINED, round(confidence, 3))
    return Language(str(code), round(confidence, 3))


def _is_unspaced(text: str) -> bool:
    """Text in a script written without spaces (Japanese, Chinese): long enough by its
    characters rather than its words."""
    return sum(1 for c in text if ord(c) >= 0x3000) >= 4 * _MIN_WORDS


@functools.cache
def stop_words(code: str) -> frozenset[str] | None:
    """Stop words of a language (case-folded), or None when there is no list for it."""
    try:
        from stop_words import LANGUAGE_MAPPING, get_stop_words
    except ImportError:  # an install without the package: no lists, said as such
        return None
    if code not in LANGUAGE_MAPPING:
        return None
    return frozenset(w.casefold() for w in get_stop_words(code))
