"""Length rules for generated briefings: whole sentences only, no repeats, within limits.

Models ignore length limits, repeat themselves and stop mid-sentence when they run out of
tokens; users should see none of that. Cuts happen at sentence boundaries; only a single
sentence that alone exceeds the word limit is shortened, and then visibly (ending in "…").
"""

from __future__ import annotations

import re

from service.preprocess import split_sentences
from service.preprocess.dedup import paragraph_key

_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")


def is_complete(sentence: str) -> bool:
    """Does the sentence end like a sentence (terminal punctuation, maybe a closing quote)?"""
    return bool(_TERMINAL.search(sentence))


def _shorten(sentence: str, max_words: int) -> str:
    words = sentence.split()[:max_words]
    cut = " ".join(words).rstrip(",;:—–-")
    return cut + "…"


def fit_length(text: str, *, max_words: int, max_sentences: int | None = None) -> str:
    """Whole, distinct sentences of ``text`` within ``max_sentences`` and ``max_words``."""
    sentences: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        key = paragraph_key(sentence)
        if key and key not in seen:
            seen.add(key)
            sentences.append(sentence)
    # A last sentence cut off by the token limit is dropped when something complete remains.
    if len(sentences) > 1 and not is_complete(sentences[-1]):
        sentences.pop()
    kept: list[str] = []
    words = 0
    for sentence in sentences:
        n = len(sentence.split())
        if max_sentences is not None and len(kept) >= max_sentences:
            break
        if words + n > max_words:
            break
        kept.append(sentence)
        words += n
    if not kept and sentences:
        kept = [_shorten(sentences[0], max_words)]
    return " ".join(kept)
