"""Engines behind one interface (:class:`Engine`), chosen by ``BRIEFING_ENGINE``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.config import Settings
from service.engines.base import Engine, GenerationRequest
from service.engines.extractive import ExtractiveEngine
from service.errors import ModelUnavailable
from service.prompts import PromptSet

if TYPE_CHECKING:
    from service.metrics import Metrics

log = logging.getLogger(__name__)

__all__ = [
    "Engine", "EngineChoice", "ExtractiveEngine", "GenerationRequest", "prompt_family",
    "select_engine",
]


@dataclass(frozen=True)
class EngineChoice:
    """The engine that serves, and why it was chosen when it is a fallback.

    ``fallback``: the engine that answers one request instead when ``engine`` raises
    :class:`~service.errors.EngineUnavailable` (the llm engine's server failed); None: that
    error is the answer.
    """

    engine: Engine
    fallback_reason: str | None = None
    fallback: Engine | None = None


def prompt_family(settings: Settings) -> str | None:
    """The prompts' family the configured engine reads: ``prompts/llm/`` for llm; for the
    seq2seq engine, its model family's (``prompts/bart/``, ``prompts/pegasus/``,
    ``prompts/mt5/``; the top-level instruction prompts for T5 and flan-t5, and where the
    model is not here to tell)."""
    if settings.engine == "llm":
        return "llm"
    if settings.engine == "extractive":
        return None
    from service.engines.seq2seq import model_family

    family = model_family(settings)
    return family.prompts if family is not None else None


def select_engine(
    settings: Settings, prompts: PromptSet, *, on_batch: Callable[[int], None] | None = None,
    on_cancelled: Callable[[str, int], None] | None = None, metrics: Metrics | None = None,
) -> EngineChoice:
    """seq2seq, extractive or llm as configured; ``auto`` falls back to extractive and says
    why.

    The seq2seq engine is served through the micro-batcher (service/engines/batcher.py): concurrent
    requests share batches, ``on_batch`` is told each batch's size, and ``on_cancelled`` how
    many prompts left it because their request ended. The llm engine (``prompts`` loaded
    with :func:`prompt_family`) calls its server; the extractive engine stands by for a
    request whose call fails, unless ``BRIEFING_LLM_FALLBACK=false``; ``metrics`` counts its
    calls. Call ``close()`` on the engine, where it has one, at shutdown.
    """
    extractive = ExtractiveEngine.for_limits(
        short_max_words=settings.short_max_words,
        short_max_sentences=settings.short_max_sentences,
        long_max_words=settings.long_max_words,
    )
    if settings.engine == "extractive":
        return EngineChoice(extractive)
    if settings.engine == "llm":
        from service.engines.llm import LlmEngine

        engine = LlmEngine(settings, prompts, metrics=metrics)
        log.info("llm engine: %s, model %r, %d calls at once, %d tokens for the article",
                 engine.server, engine.model_id, engine.concurrency, engine.max_input_tokens)
        return EngineChoice(engine, fallback=extractive if settings.llm_fallback else None)
    from service.engines.batcher import BatchedEngine, MicroBatcher
    from service.engines.seq2seq import load_seq2seq

    try:
        engine = load_seq2seq(settings, prompts)
    except ModelUnavailable as exc:
        if settings.engine == "seq2seq":
            raise
        log.warning("seq2seq engine unavailable, serving with the extractive engine: %s", exc)
        return EngineChoice(extractive, fallback_reason=exc.message)
    batcher = MicroBatcher(
        engine, max_batch_size=settings.max_batch_size, max_wait_ms=settings.max_wait_ms,
        max_queue=settings.batch_max_queue, max_batch_tokens=settings.max_batch_tokens,
        on_batch=on_batch, on_cancelled=on_cancelled, parallel_batches=engine.parallel,
    )
    return EngineChoice(BatchedEngine(engine, batcher))
