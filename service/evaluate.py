"""``briefing eval FILE.jsonl``: engines and models measured on your own articles.

Each row holds an article and a reference summary, under our own field names
(``article``/``summary``), CNN/DailyMail's (``article``/``highlights``) or XSum's
(``document``/``summary``). Every engine or model given is run over the same rows through the
request path (:class:`~service.briefing.BriefingService`: cleaning, condensing, length rules
and checks as the API runs them; nothing cached or stored), and scored:

- ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 × 100 (rouge-score, Porter stemmer; for Lsum, the
  sentences of each text on lines of their own, cut by the service's sentence splitter) of
  the short and the long briefing against the reference;
- ``lead_rouge1``: ROUGE-1 of the article's first words, as many as the briefing has: the
  baseline any briefing should beat at its length (ROUGE F1 depends on length);
- mean length in words, the share of briefings with facts the checker could not find in
  the article, the requests answered by a fallback engine, model passes per article, and the
  latency's median (both briefings of one article).

rouge-score's tokenizer keeps ASCII letters and digits only: scores of articles in other
alphabets are not meaningful.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config import Settings
from service.errors import BriefingError

FIELDS = (("article", "summary"), ("article", "highlights"), ("document", "summary"))
KINDS = ("short", "long")
ROUGE = ("rouge1", "rouge2", "rougeLsum")


@dataclass(frozen=True)
class Row:
    article: str
    reference: str


@dataclass(frozen=True)
class System:
    """One engine, or the seq2seq engine with one model, to measure."""

    engine: str
    model: str | None = None

    @property
    def label(self) -> str:
        return f"{self.engine} {self.model}" if self.model else self.engine


def read_rows(path: Path, *, limit: int | None = None, dataset: str | None = None
              ) -> list[Row]:
    """The rows of a JSONL file (``dataset``: only rows whose ``dataset`` field says so)."""
    rows: list[Row] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BriefingError(f"{path}:{number}: not JSON: {exc}") from exc
            if dataset is not None and data.get("dataset") != dataset:
                continue
            pair = next(((a, s) for a, s in FIELDS
                         if isinstance(data.get(a), str) and isinstance(data.get(s), str)), None)
            if pair is None:
                raise BriefingError(
                    f"{path}:{number}: a row needs an article and its reference summary: "
                    "article and summary, article and highlights (CNN/DailyMail), or document "
                    f"and summary (XSum); it has {sorted(data)}"
                )
            rows.append(Row(data[pair[0]], data[pair[1]]))
            if limit is not None and len(rows) >= limit:
                break
    if not rows:
        raise BriefingError(f"{path}: no rows" + (f" with dataset {dataset!r}" if dataset
                                                  else ""))
    return rows


def systems_from(items: Sequence[tuple[str, str]] | None) -> list[System]:
    """``--engine E`` and ``--model M`` in the order given: a model goes to the last
    ``--engine seq2seq`` that has none yet, else it is a seq2seq system of its own."""
    systems: list[System] = []
    for kind, value in items or ():
        if kind == "engine":
            systems.append(System(value))
            continue
        for index in range(len(systems) - 1, -1, -1):
            if systems[index].engine == "seq2seq" and systems[index].model is None:
                systems[index] = System("seq2seq", value)
                break
        else:
            systems.append(System("seq2seq", value))
    return systems


class Rouge:
    """rouge-score's F1 × 100; imported here so the service runs without it."""

    def __init__(self) -> None:
        try:
            from rouge_score import rouge_scorer
        except ImportError as exc:  # pragma: no cover - a dependency; a broken install
            raise BriefingError(
                "briefing eval needs rouge-score: .venv/bin/pip install rouge-score"
            ) from exc
        from service.preprocess import split_sentences

        logging.getLogger("absl").setLevel(logging.WARNING)  # "Using default tokenizer."

        self._scorer = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=True)
        self._split = split_sentences

    def lines(self, text: str) -> str:
        """One sentence a line (ROUGE-Lsum's unit)."""
        return "\n".join(s.strip() for s in self._split(text) if s.strip())

    def score(self, reference: str, candidate: str) -> dict[str, float]:
        scores = self._scorer.score(self.lines(reference), self.lines(candidate))
        return {name: 100 * scores[name].fmeasure for name in ROUGE}


def lead(article: str, words: int) -> str:
    """The article's first ``words`` words."""
    return " ".join(article.split()[:words])


@dataclass
class Tally:
    """One system's figures, summed over rows."""

    system: System
    rows: int = 0
    refused: int = 0
    fallbacks: int = 0
    passes: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, kind: str, name: str, value: float) -> None:
        self.scores.setdefault(kind, {}).setdefault(name, []).append(value)

    def as_dict(self) -> dict[str, Any]:
        def mean(values: list[float]) -> float:
            return round(statistics.fmean(values), 2) if values else 0.0

        out: dict[str, Any] = {
            "engine": self.system.engine, "model": self.system.model or "",
            "rows": self.rows, "refused": self.refused, "fallbacks": self.fallbacks,
            "model_passes": mean([float(p) for p in self.passes]),
            "latency_p50_ms": round(statistics.median(self.latency_ms), 1)
            if self.latency_ms else 0.0,
        }
        for kind in KINDS:
            values = self.scores.get(kind, {})
            out[kind] = {name: mean(values.get(name, [])) for name in
                         (*ROUGE, "lead_rouge1", "words")}
            out[kind]["unsupported_share"] = round(
                statistics.fmean(values["unsupported"]), 4) if values.get("unsupported") else 0.0
        return out


def evaluate(
    rows: Sequence[Row], systems: Sequence[System], settings: Settings, *,
    progress: Callable[[Iterable[Row], str], Iterable[Row]] | None = None,
) -> list[dict[str, Any]]:
    """One result per system (see the module docstring), in order."""
    rouge = Rouge()
    results = []
    for system in systems:
        tally = Tally(system)
        service, close = _open(settings, system)
        try:
            rows_seen = progress(rows, system.label) if progress else rows
            for row in rows_seen:
                _measure(service, rouge, row, tally)
        finally:
            close()
        results.append(tally.as_dict())
    return results


def _open(settings: Settings, system: System) -> tuple[Any, Callable[[], None]]:
    """The request path over ``system``'s engine, with nothing cached or stored (every
    row is computed, and the user's cache and store stay as they are)."""
    from service.briefing import BriefingService
    from service.wiring import Wiring

    update: dict[str, Any] = {"engine": system.engine}
    if system.model:
        update["model"] = system.model
    configured = settings.model_copy(update=update)
    wiring = Wiring(configured)
    try:
        choice = wiring.engine_choice
        service = BriefingService(configured, choice, wiring.prompts, _NoCache(), None,  # type: ignore[arg-type]
                                  wiring.metrics)
    except BaseException:
        wiring.close()
        raise
    return service, wiring.close


class _NoCache:
    def get(self, key: str) -> None:
        return None

    def get_by_alias(self, alias: str) -> None:
        return None

    def put(self, key: str, result: dict[str, Any], *, aliases: tuple[str, ...] = ()) -> None:
        return None


def _measure(service: Any, rouge: Rouge, row: Row, tally: Tally) -> None:
    from service.storage.articles import Article

    started = time.perf_counter()
    try:
        result = service.brief(Article(text=row.article), store=False)
    except BriefingError:  # empty, not prose, too short: not briefed by the service either
        tally.refused += 1
        return
    tally.latency_ms.append(1000 * (time.perf_counter() - started))
    tally.rows += 1
    tally.passes.append(int(result["input"].get("model_passes") or 0))
    if result.get("fallback_reason"):
        tally.fallbacks += 1
    flagged = {item.get("briefing") for item in result["checks"].get("unsupported", [])}
    for kind in KINDS:
        text = result.get(kind) or ""
        words = len(text.split())
        for name, value in rouge.score(row.reference, text).items():
            tally.add(kind, name, value)
        tally.add(kind, "lead_rouge1", rouge.score(row.reference, lead(row.article, words))
                  ["rouge1"])
        tally.add(kind, "words", float(words))
        tally.add(kind, "unsupported", 1.0 if kind in flagged else 0.0)


def render_table(results: Sequence[dict[str, Any]]) -> str:
    """The results side by side, a line per system and briefing."""
    header = ("engine", "model", "briefing", "ROUGE-1", "ROUGE-2", "ROUGE-Lsum", "lead R-1",
              "words", "unsupported", "rows", "fallbacks", "passes", "p50 ms")
    lines = [header]
    for result in results:
        for kind in KINDS:
            scores = result[kind]
            lines.append((
                result["engine"], result["model"] or "-", kind,
                f"{scores['rouge1']:.2f}", f"{scores['rouge2']:.2f}",
                f"{scores['rougeLsum']:.2f}", f"{scores['lead_rouge1']:.2f}",
                f"{scores['words']:.1f}", f"{100 * scores['unsupported_share']:.1f}%",
                str(result["rows"]), str(result["fallbacks"]), f"{result['model_passes']:.1f}",
                f"{result['latency_p50_ms']:.0f}",
            ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]
    notes = [f"{r['engine']} {r['model']}".strip() + f": {r['refused']} row(s) refused "
             "(empty, not prose or too short)" for r in results if r["refused"]]
    return "\n".join(text + notes)


def progress_bar(rows: Iterable[Row], label: str) -> Iterable[Row]:
    """A progress bar on standard error (a terminal), a line at the start otherwise."""
    items = list(rows)
    if not sys.stderr.isatty():
        print(f"briefing eval: {label}: {len(items)} rows", file=sys.stderr, flush=True)
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="row", file=sys.stderr, leave=True)
