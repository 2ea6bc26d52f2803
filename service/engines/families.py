"""Model families: what kind of summarizer a seq2seq checkpoint is, read from its config.

The checkpoints people use for news summaries differ in what they expect as input:

==========  ==============================================  ==========================
family      checkpoints                                     input
==========  ==============================================  ==========================
``t5``      google/flan-t5-*, t5-*                           an instruction and the
                                                             article (``prompts/*.toml``)
``bart``    facebook/bart-large-cnn, sshleifer/distilbart-*  the article alone
``pegasus`` google/pegasus-cnn_dailymail, pegasus-xsum       the article alone
``mt5``     csebuetnlp/mT5_multilingual_XLSum                the article alone
==========  ==============================================  ==========================

A model fine-tuned on (article, summary) pairs reads an instruction as part of the article, so
the families other than ``t5`` get plain prompts (``prompts/<family>/``: ``{text}`` only; short
and long differ by their generation settings). The family is the config's ``model_type``.

The input window comes from the model, not a constant: the smallest of the tokenizer's
``model_max_length`` and the config's ``max_position_embeddings`` where they are set (BART and
PEGASUS: 1,024; flan-t5's tokenizer says 512), and ``BRIEFING_MAX_INPUT_TOKENS`` when set;
where none is, 512 (T5 and mT5 have relative positions and were trained on 512).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import ModelUnavailable

# A tokenizer that does not say its length says 1e30; anything above this is "not set".
UNSET_LENGTH = 10**6


@dataclass(frozen=True)
class Family:
    name: str
    prompts: str | None  # prompts/ subdirectory; None: the top-level (instruction) prompts
    default_window: int  # when neither the tokenizer nor the config says


FAMILIES: dict[str, Family] = {
    "t5": Family("t5", None, 512),
    "mt5": Family("mt5", "mt5", 512),
    "bart": Family("bart", "bart", 1024),
    "pegasus": Family("pegasus", "pegasus", 1024),
}


def read_config(directory: Path) -> dict[str, Any]:
    """The model's ``config.json`` (empty when the directory has none)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def detect_family(config: dict[str, Any], where: object = "the model") -> Family:
    """The family of a model by its config's ``model_type``; ModelUnavailable otherwise."""
    model_type = str(config.get("model_type") or "")
    family = FAMILIES.get(model_type)
    if family is None:
        raise ModelUnavailable(
            f"{where}: model_type {model_type or '(none)'!r} is not a summarizer family the "
            f"service knows ({', '.join(FAMILIES)}): use a T5/flan-t5, BART, PEGASUS or mT5 "
            "checkpoint"
        )
    return family


def model_window(config: dict[str, Any], tokenizer_max: float, family: Family,
                 cap: int | None = None) -> int:
    """Input tokens the model reads in one pass (prompt and special tokens included)."""
    limits = [int(tokenizer_max)] if 0 < tokenizer_max < UNSET_LENGTH else []
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and 0 < positions < UNSET_LENGTH:
        limits.append(positions)
    if cap:  # BRIEFING_MAX_INPUT_TOKENS: lowers the model's own limits, never raises them
        limits.append(cap)
    return min(limits) if limits else family.default_window


def tokenizer_max_length(directory: Path) -> float:
    """``model_max_length`` from a tokenizer's config file, without loading it."""
    path = Path(directory) / "tokenizer_config.json"
    if not path.is_file():
        return float(UNSET_LENGTH)
    value = json.loads(path.read_text(encoding="utf-8")).get("model_max_length")
    return float(value) if isinstance(value, int | float) else float(UNSET_LENGTH)
