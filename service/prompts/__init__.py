"""Prompt templates: one TOML file per kind (the project's top-level ``prompts/``), template plus
generation settings.

Generation settings live next to the template they were tuned with, not in code. The files
live in the project's top-level ``prompts/``; ``service/prompts/templates`` links there, so
they ship inside the package (package data, found through :mod:`importlib.resources`) and an
installed wheel has them; ``BRIEFING_PROMPTS_DIR`` points elsewhere. The content of the files
is the version: ``prompt_version`` is a hash over all of them, and it is part of
every cache key, so editing a prompt can never serve a stale briefing.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import asdict, dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# The templates shipped with the package (a directory in a wheel or a checkout).
DEFAULT_PROMPTS: Traversable = files(__name__) / "templates"
KINDS = ("short", "long", "reduce")


@dataclass(frozen=True)
class GenerationSettings:
    """Arguments to ``generate()`` for one kind of output."""

    max_new_tokens: int
    min_new_tokens: int = 0
    num_beams: int = 1
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prompt:
    """One template (with a ``{text}`` slot) and the generation settings tuned for it."""

    kind: str
    template: str
    generation: GenerationSettings

    def render(self, text: str) -> str:
        return self.template.format(text=text)


@dataclass(frozen=True)
class PromptSet:
    """All prompts of one ``prompts/`` directory and the version hash over them."""

    prompts: dict[str, Prompt]
    version: str

    def __getitem__(self, kind: str) -> Prompt:
        return self.prompts[kind]


def load_prompts(directory: Path | Traversable | None = None) -> PromptSet:
    """Read ``short``, ``long`` and ``reduce`` prompts; fail loudly on a broken file."""
    directory = directory or DEFAULT_PROMPTS
    digest = hashlib.sha256()
    prompts: dict[str, Prompt] = {}
    for kind in KINDS:
        path = directory / f"{kind}.toml"
        raw = path.read_bytes()
        digest.update(kind.encode() + b"\0" + raw + b"\0")
        data = tomllib.loads(raw.decode("utf-8"))
        template = data["template"]
        if "{text}" not in template:
            raise ValueError(f"{path}: template has no {{text}} slot")
        prompts[kind] = Prompt(kind, template, GenerationSettings(**data["generation"]))
    return PromptSet(prompts=prompts, version=digest.hexdigest()[:16])
