"""Engines behind one interface (:class:`Engine`), chosen by ``BRIEFING_ENGINE``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from service.config import Settings
from service.engines.base import Engine, GenerationRequest
from service.engines.extractive import ExtractiveEngine
from service.errors import ModelUnavailable
from service.prompts import PromptSet

log = logging.getLogger(__name__)

__all__ = ["Engine", "EngineChoice", "ExtractiveEngine", "GenerationRequest", "select_engine"]


@dataclass(frozen=True)
class EngineChoice:
    """The engine that serves, and why it was chosen when it is a fallback."""

    engine: Engine
    fallback_reason: str | None = None


def select_engine(
    settings: Settings, prompts: PromptSet, *, on_batch: Callable[[int], None] | None = None,
    on_cancelled: Callable[[str, int], None] | None = None,
) -> EngineChoice:
    """seq2seq or extractive as configured; ``auto`` falls back to extractive and says why.

    The seq2seq engine is served through the micro-batcher (service/batcher.py): concurrent
    requests share batches, ``on_batch`` is told each batch's size, and ``on_cancelled`` how
    many prompts left it because their request ended. Call ``close()`` on
    the engine, where it has one, at shutdown.
    """
    extractive = ExtractiveEngine.for_limits(
        short_max_words=settings.short_max_words,
        short_max_sentences=settings.short_max_sentences,
        long_max_words=settings.long_max_words,
    )
    if settings.engine == "extractive":
        return EngineChoice(extractive)
    from service.batcher import BatchedEngine, MicroBatcher
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
        on_batch=on_batch, on_cancelled=on_cancelled,
    )
    return EngineChoice(BatchedEngine(engine, batcher))
