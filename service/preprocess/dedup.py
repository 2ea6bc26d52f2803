"""Remove repeated paragraphs inside one article, keeping the first occurrence in order.

Scrapers often emit the title twice and the whole body twice (see the seed article); the model
would otherwise spend its window, and its attention, on the same text again.
"""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"\W+")


def paragraph_key(paragraph: str) -> str:
    """Comparison key: case, punctuation and spacing differences do not make a new paragraph.

    A paragraph with no word characters at all (emoji, symbols) is its own key, so it is
    kept once rather than mistaken for a duplicate of every other such paragraph.
    """
    folded = paragraph.casefold()
    return _NON_WORD.sub(" ", folded).strip() or " ".join(folded.split())


def drop_exact_duplicates(paragraphs: list[str]) -> tuple[list[str], int]:
    """Paragraphs with repeats removed (first kept), and how many were removed."""
    seen: set[str] = set()
    kept: list[str] = []
    for paragraph in paragraphs:
        key = paragraph_key(paragraph)
        if not key or key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept, len(paragraphs) - len(kept)
