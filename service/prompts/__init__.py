"""Prompt templates: one TOML file per kind (the project's top-level ``prompts/``), template plus
generation settings.

Generation settings live next to the template they were tuned with, not in code. The files
live in the project's top-level ``prompts/``; ``service/prompts/templates`` links there, so
they ship inside the package (package data, found through :mod:`importlib.resources`) and an
installed wheel has them; ``BRIEFING_PROMPTS_DIR`` points elsewhere. The content of the files
is the version: ``prompt_version`` is a hash over all of them, and it is part of
every cache key, so editing a prompt can never serve a stale briefing.

A seq2seq model family that reads the article alone (BART, PEGASUS, mT5: see
:mod:`service.engines.families`) has its prompts in ``prompts/<family>/``: ``{text}`` as the
template, and the generation settings its checkpoints were tuned with.

An engine with prompts of its own keeps them in a subdirectory named after it
(``load_prompts(family="llm")`` reads ``prompts/llm/``): chat prompts, a ``system`` and a
``user`` template per kind, with the slots ``{text}``, ``{title}`` and ``{language}``, and
``max_tokens`` and ``temperature`` as their generation settings. Their version hashes that
family's files only, so the seq2seq prompts and their version stay as they are.
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from dataclasses import asdict, dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

# The templates shipped with the package (a directory in a wheel or a checkout).
DEFAULT_PROMPTS: Traversable = files(__name__) / "templates"
KINDS = ("short", "long", "reduce")
# The slots a chat prompt may hold; ``{text}`` is required in its user template. A line whose
# optional slots are all empty is left out ("Title: {title}" for an article without one).
# ``{language}`` without a language asked for reads "the language of the article".
CHAT_SLOTS = ("text", "title", "language")
OPTIONAL_SLOTS = frozenset({"title"})
DEFAULT_LANGUAGE = "the language of the article"
# A chat prompt's ``repair`` message (asked after an answer with facts the article does not
# state) may use these slots; ``{missing}`` is required. The prompts/llm/ files carry their own.
REPAIR_SLOTS = ("missing", "language")
DEFAULT_REPAIR = ("The article does not say {missing}. Write the briefing again using only "
                  "names, numbers and dates the article states. Reply with the briefing only.")


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
    """One template (with a ``{text}`` slot) and the generation settings tuned for it.

    A chat prompt (the llm engine's) has a ``system`` template too, and ``template`` is its
    user message; ``temperature`` is sent with it (None: the server's default).
    """

    kind: str
    template: str
    generation: GenerationSettings
    system: str | None = None
    temperature: float | None = None
    repair: str | None = None  # a chat prompt's follow-up naming unsupported facts

    def render_repair(self, missing: list[str] | tuple[str, ...], *, language: str = "") -> str:
        """The follow-up message that asks again, naming what the article does not say."""
        values = {"missing": ", ".join(f'"{m}"' for m in missing),
                  "language": language.strip() or DEFAULT_LANGUAGE}
        return _fill(self.repair or DEFAULT_REPAIR, values)

    def render(self, text: str) -> str:
        return self.template.format(text=text)

    def render_chat(self, text: str, *, title: str = "", language: str = "") -> tuple[str, str]:
        """(system message, user message) with the slots filled; see ``OPTIONAL_SLOTS``."""
        values = {"text": text, "title": title.strip(),
                  "language": language.strip() or DEFAULT_LANGUAGE}
        return (_fill(self.system or "", values), _fill(self.template, values))


@dataclass(frozen=True)
class PromptSet:
    """All prompts of one ``prompts/`` directory and the version hash over them."""

    prompts: dict[str, Prompt]
    version: str
    family: str | None = None  # the subdirectory read (None: the top-level prompts)

    def __getitem__(self, kind: str) -> Prompt:
        return self.prompts[kind]


def load_prompts(
    directory: Path | Traversable | None = None, *, family: str | None = None
) -> PromptSet:
    """Read ``short``, ``long`` and ``reduce`` prompts; fail loudly on a broken file.

    ``family``: an engine's own prompts, in that subdirectory (``"llm"``: chat prompts).
    """
    directory = directory or DEFAULT_PROMPTS
    if family is not None:
        directory = directory / family
    digest = hashlib.sha256()
    if family is not None:  # the seq2seq version stays what it was (no prefix there)
        digest.update(family.encode() + b"\0")
    prompts: dict[str, Prompt] = {}
    for kind in KINDS:
        path = directory / f"{kind}.toml"
        raw = path.read_bytes()
        digest.update(kind.encode() + b"\0" + raw + b"\0")
        data = tomllib.loads(raw.decode("utf-8"))
        if family == "llm":
            prompts[kind] = _chat_prompt(kind, data, path)
            continue
        template = data["template"]
        if "{text}" not in template:
            raise ValueError(f"{path}: template has no {{text}} slot")
        prompts[kind] = Prompt(kind, template, GenerationSettings(**data["generation"]))
    return PromptSet(prompts=prompts, version=digest.hexdigest()[:16], family=family)


def _chat_prompt(kind: str, data: dict[str, Any], path: object) -> Prompt:
    """A chat prompt from its TOML: ``system``, ``user`` and ``[generation]`` max_tokens and
    temperature."""
    try:
        system, user = str(data["system"]), str(data["user"])
        generation = dict(data["generation"])
        max_tokens = int(generation.pop("max_tokens"))
    except KeyError as exc:
        raise ValueError(f"{path}: a chat prompt needs system, user and [generation] "
                         f"max_tokens; {exc} is missing") from exc
    temperature = generation.pop("temperature", None)
    if generation:
        raise ValueError(f"{path}: unknown generation settings {sorted(generation)} "
                         "(max_tokens and temperature are sent)")
    for name, template in (("system", system), ("user", user)):
        try:
            slots = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        except ValueError as exc:
            raise ValueError(f"{path}: {name} template: {exc} (write {{{{ for a brace)") from exc
        unknown = slots - set(CHAT_SLOTS)
        if unknown:
            raise ValueError(f"{path}: {name} template has unknown slots {sorted(unknown)}; "
                             f"it may use {', '.join('{' + s + '}' for s in CHAT_SLOTS)}")
    if "{text}" not in user:
        raise ValueError(f"{path}: the user template has no {{text}} slot")
    repair = data.get("repair")
    if repair is not None:
        repair = str(repair)
        try:
            slots = {field for _, field, _, _ in string.Formatter().parse(repair) if field}
        except ValueError as exc:
            raise ValueError(f"{path}: repair template: {exc} (write {{{{ for a brace)") from exc
        if slots - set(REPAIR_SLOTS) or "missing" not in slots:
            raise ValueError(f"{path}: the repair template must hold {{missing}} and may hold "
                             f"{{language}}; it has {sorted(slots)}")
    return Prompt(kind, user, GenerationSettings(max_new_tokens=max_tokens), system=system,
                  temperature=None if temperature is None else float(temperature),
                  repair=repair)


def _fill(template: str, values: dict[str, str]) -> str:
    """``template`` with its slots filled; a line whose optional slots are all empty (and
    that holds no ``{text}``) is left out."""
    lines: list[str] = []
    for line in template.split("\n"):
        slots = {field for _, field, _, _ in string.Formatter().parse(line) if field}
        if slots and slots <= OPTIONAL_SLOTS and not any(values[s] for s in slots):
            if lines and not lines[-1].strip():
                lines.pop()  # and the blank line before it: no double gap where it was
            continue
        lines.append(line.format_map(values))
    return "\n".join(lines).strip()
