"""Repair and normalize raw article text before anything looks at its content.

Scraped text carries NBSP-only lines, odd Unicode spaces, control characters and mixed line
endings; models and dedup both see cleaner input if these are settled first, in one place.
"""

from __future__ import annotations

import re
import unicodedata

# Every Unicode space separator (NBSP, thin space, ideographic space, …) plus tab/FF/VT.
_ODD_SPACES = re.compile(r"[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Zero-width and bidi formatting characters carry no content for a summarizer.
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# C0/C1 control characters except newline (tabs were turned into spaces above).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SPACE_RUN = re.compile(r" {2,}")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, one kind of space and newline, no control characters, no whitespace-only lines.

    Paragraphs stay separated by exactly one blank line; single newlines inside a paragraph
    are kept (segmentation decides what they mean).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n")
    text = unicodedata.normalize("NFC", text)
    text = _ODD_SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _BLANK_RUN.sub("\n\n", text).strip()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of normalized text: blocks separated by blank lines, inner newlines joined."""
    return [" ".join(block.split("\n")) for block in text.split("\n\n") if block.strip()]
