"""Preprocessing: pure functions from raw article text to a clean :class:`Document`.

No I/O and no torch here, so this stage is cheap to test and to run anywhere.

Stages (``preprocess``):
  1. normalize — Unicode NFC, one kind of space/newline, no control characters
  2. paragraphs — split on blank lines
  3. dedup — repeated paragraphs (and a repeated title) removed, first kept
  4. sentences — segmentation of what is left
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from service.preprocess.chunk import TokenCounter, chunk_sentences
from service.preprocess.dedup import drop_exact_duplicates
from service.preprocess.normalize import normalize_text, split_paragraphs
from service.preprocess.sentences import split_sentences

# Part of every cache key: bump when a change here changes what the model sees.
PREPROCESS_VERSION = "1"

__all__ = [
    "PREPROCESS_VERSION",
    "Document",
    "PreprocessStats",
    "TokenCounter",
    "chunk_sentences",
    "normalize_text",
    "preprocess",
    "split_sentences",
]


@dataclass(frozen=True)
class PreprocessStats:
    """What preprocessing did, reported to users in the API's ``input`` block."""

    chars_in: int
    chars_out: int
    paragraphs_in: int
    paragraphs_out: int
    duplicates_removed: int
    sentences: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """A cleaned article: paragraphs in original order, each kept once."""

    text: str
    paragraphs: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    stats: PreprocessStats = field(
        default_factory=lambda: PreprocessStats(0, 0, 0, 0, 0, 0)
    )


def preprocess(text: str) -> Document:
    """Turn raw article text into a clean document (see the module docstring for stages)."""
    # 1. normalize
    normalized = normalize_text(text)
    # 2. paragraphs
    paragraphs_in = split_paragraphs(normalized)
    # 3. dedup
    paragraphs, removed = drop_exact_duplicates(paragraphs_in)
    # 4. sentences
    sentences = [s for paragraph in paragraphs for s in split_sentences(paragraph)]
    clean = "\n\n".join(paragraphs)
    stats = PreprocessStats(
        chars_in=len(text),
        chars_out=len(clean),
        paragraphs_in=len(paragraphs_in),
        paragraphs_out=len(paragraphs),
        duplicates_removed=removed,
        sentences=len(sentences),
    )
    return Document(text=clean, paragraphs=paragraphs, sentences=sentences, stats=stats)
