"""The one small interface every engine implements.

An engine turns (source text, prompt) pairs into text. The seq2seq engine renders the prompt
and calls ``generate()``; the extractive engine ignores the template and uses the prompt's
kind and length settings to pick sentences; the llm engine asks a server. Everything above
(chunking, map-reduce, length rules, checks, cache) is shared and lives outside the engines.

:class:`Engine` is what the request path calls: ``generate`` with the request's
:class:`~service.cancellation.Cancellation` (an engine that holds queued or remote work
gives it up when it fires; one that answers at once may ignore it), and ``close`` at
shutdown. :class:`BatchableEngine` adds the prepare → run → decode steps the micro-batcher
(:mod:`service.engines.batcher`) pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from service.prompts import GenerationSettings, Prompt

if TYPE_CHECKING:
    from service.cancellation import Cancellation

# Asked between decoding steps; True stops the batch (every caller in it has gone).
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class GenerationRequest:
    """One unit of work for an engine: summarize ``text`` as ``prompt`` asks.

    ``language``: what the prompt's ``{language}`` slot says (the llm engine's; empty: the
    article's language). ``revise``: (the engine's earlier answer, the facts in it the
    article does not support): the llm engine asks once more, naming them (the prompt's
    ``repair`` message); engines that cannot be told ignore it and are not asked."""

    text: str
    prompt: Prompt
    language: str = ""
    revise: tuple[str, tuple[str, ...]] | None = None


class Engine(Protocol):
    """What the request path needs from an engine."""

    name: str  # "seq2seq", "extractive" or "llm"
    model_id: str  # hub id or path; "" for engines without weights
    model_revision: str  # part of the cache key
    max_input_tokens: int  # window for the source text, prompt overhead already taken off

    def count_tokens(self, text: str) -> int: ...

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]: ...

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        """One output per request, in order; stops (``RequestCancelled``/``RequestTimeout``)
        when ``cancellation`` fires, where the engine has work it can give up."""
        ...

    def close(self) -> None:
        """Release what the engine holds (threads, connections); work queued is finished
        first."""
        ...


@dataclass(frozen=True)
class Prepared:
    """A request after the prepare step: prompt rendered and tokenized, ready to batch."""

    ids: tuple[int, ...]  # input token ids, within the model window
    settings: GenerationSettings  # only prepared requests with equal settings share a batch


class BatchableEngine(Engine, Protocol):
    """An engine split into prepare → run → decode, so a batcher can pipeline the steps.

    ``generate(requests)`` must equal ``decode(run([prepare(r) for r in requests]))`` for
    requests with equal settings.
    """

    def prepare(self, request: GenerationRequest) -> Prepared: ...

    def run(
        self, batch: Sequence[Prepared], should_stop: ShouldStop | None = None
    ) -> list[list[int]]: ...

    def decode(self, outputs: Sequence[Sequence[int]]) -> list[str]: ...
