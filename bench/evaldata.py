"""Where the benchmarks find the evaluation data, read at run time and never copied here.

``$BRIEFING_EVAL_DIR`` when set, else ``../shared/eval`` next to the repository (see
``SOURCES.md`` there: the news texts are for internal evaluation only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def eval_dir() -> Path:
    """The folder holding the evaluation files."""
    override = os.environ.get("BRIEFING_EVAL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def read_jsonl(path: Path) -> list[dict]:
    """Every non-blank line of a JSON Lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
