"""Cut a document's sentences into chunks that fit the model's input window.

Token counts come from the model's own tokenizer (through :class:`TokenCounter`), so a chunk
never overflows the window and never cuts a sentence unless one sentence alone is too long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TokenCounter(Protocol):
    """What chunking needs from a tokenizer; engines provide it."""

    def count_tokens(self, text: str) -> int: ...

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]: ...


def chunk_sentences(
    sentences: Sequence[str], counter: TokenCounter, max_tokens: int
) -> list[str]:
    """Greedy packing of whole sentences into chunks of at most ``max_tokens`` tokens.

    A sentence longer than the budget is split by tokens into pieces of its own.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for sentence in sentences:
        tokens = counter.count_tokens(sentence)
        if tokens > max_tokens:
            if current:
                chunks.append(" ".join(current))
                current, used = [], 0
            chunks.extend(counter.split_by_tokens(sentence, max_tokens))
            continue
        if used + tokens > max_tokens and current:
            chunks.append(" ".join(current))
            current, used = [], 0
        current.append(sentence)
        used += tokens
    if current:
        chunks.append(" ".join(current))
    return chunks
