"""The one small interface every engine implements.

An engine turns (source text, prompt) pairs into text. The seq2seq engine renders the prompt
and calls ``generate()``; the extractive engine ignores the template and uses the prompt's
kind and length settings to pick sentences. Everything above (chunking, map-reduce, length
rules, checks, cache) is shared and lives outside the engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from service.prompts import Prompt


@dataclass(frozen=True)
class GenerationRequest:
    """One unit of work for an engine: summarize ``text`` as ``prompt`` asks."""

    text: str
    prompt: Prompt


class Engine(Protocol):
    """What the request path needs from an engine."""

    name: str  # "seq2seq" or "extractive"
    model_id: str  # hub id or path; "" for engines without weights
    model_revision: str  # part of the cache key
    max_input_tokens: int  # window for the source text, prompt overhead already taken off

    def count_tokens(self, text: str) -> int: ...

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]: ...

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]: ...
