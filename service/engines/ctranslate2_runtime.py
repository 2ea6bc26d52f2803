"""CTranslate2 runtime: the transformers model converted once, cached, and run without torch.

Why: on CPU, CTranslate2 int8 generates 2.5-4x faster than transformers ``generate()`` at a
third of the memory, and a server that uses it never imports torch (2.5 s and ~200 MB).

1. Convert (``ctranslate2.converters.TransformersConverter``, which needs torch and
   transformers). A process that has not imported them converts in a child process, so neither
   their import time nor the conversion's peak memory (the fp32 weights) stays with the
   server; a process that has (tests, the CLI after a torch run) converts in process.
2. Cache under ``<data dir>/ctranslate2/<revision>-<quantization>-ct2-<version>/``: the
   source directory's revision (``seq2seq.directory_revision``) is the key, so a different
   model converts again, and a finished conversion is renamed into place in one step, so a
   crash leaves no half model.
   The tokenizer is saved next to the weights, so serving needs only ``tokenizers``.
3. Run. Every length is passed explicitly, because CTranslate2's defaults differ from the
   prompt's settings and one of them loses text silently: ``max_input_length=1024`` truncates
   inputs (we pass the window; inputs are already cut to it, and the cut is reported upstream),
   ``beam_size=2``, ``min_decoding_length=1``, ``max_decoding_length=256``. Token ids map to
   tokens through the converted model's own vocabulary, which can be larger than the
   tokenizer's (T5 pads its vocabulary to 32128 entries).

Greedy output of a float32 conversion equals transformers token for token
(tests/test_runtime.py); int8 differs in the way any quantization does.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from service.engines.text_tokenizer import FastTokenizer
from service.errors import ModelUnavailable
from service.prompts import GenerationSettings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MARKER = "briefing-conversion.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def available() -> bool:
    """Whether the ctranslate2 package is installed (without importing it)."""
    from importlib.util import find_spec

    return find_spec("ctranslate2") is not None


def converted_dir(data_dir: Path, revision: str, quantization: str) -> Path:
    """Where the conversion of a model at ``revision`` is cached."""
    version = metadata.version("ctranslate2")
    return data_dir / "ctranslate2" / f"{revision}-{quantization}-ct2-{version}"


def ensure_converted(
    source: Path, target: Path, quantization: str, *, timeout_s: float
) -> Path:
    """The cached conversion of ``source`` at ``target``, converting first when missing."""
    if (target / MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    started = time.monotonic()
    try:
        if "torch" in sys.modules and "transformers" in sys.modules:
            convert(source, staging, quantization)
        else:
            _convert_in_child(source, staging, quantization, timeout_s)
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / MARKER).is_file():  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("converted %s to CTranslate2 %s in %.1fs: %s", source, quantization,
             time.monotonic() - started, target)
    return target


def convert(source: Path, output: Path, quantization: str) -> None:
    """Convert a transformers seq2seq directory and save its tokenizer alongside."""
    from ctranslate2.converters import TransformersConverter
    from transformers import AutoTokenizer

    TransformersConverter(str(source), low_cpu_mem_usage=True).convert(
        str(output), quantization=quantization, force=True
    )
    # Saved by transformers itself, so tokenizer.json exists even when the source only has
    # a sentencepiece file.
    tokenizer_dir = output / "tokenizer"
    AutoTokenizer.from_pretrained(str(source)).save_pretrained(str(tokenizer_dir))
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).is_file():
            shutil.move(str(tokenizer_dir / name), output / name)
    shutil.rmtree(tokenizer_dir)
    if not (output / "tokenizer.json").is_file():
        raise ValueError(f"{source}: the tokenizer could not be saved as tokenizer.json")
    marker = {"source": str(source), "quantization": quantization,
              "ctranslate2": metadata.version("ctranslate2")}
    (output / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")


def _convert_in_child(source: Path, output: Path, quantization: str, timeout_s: float) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )}
    command = [sys.executable, "-m", "service.engines.ctranslate2_runtime", "convert",
               str(source), str(output), quantization]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ModelUnavailable(
            f"converting {source} to CTranslate2 took longer than {timeout_s:g}s"
        ) from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelUnavailable(f"converting {source} to CTranslate2 failed: {tail[0]}")


class CTranslate2Runtime:
    """``generate_ids`` on a converted model; one translate call per batch."""

    def __init__(self, directory: Path, *, quantization: str, threads: int,
                 max_input_length: int, parallel: int = 1) -> None:
        import ctranslate2

        self.name = f"ctranslate2-{quantization}"
        self.directory = directory
        self.max_input_length = max_input_length
        # Batches run at the same time, each on its share of the threads (one copy of the
        # weights): see Settings.parallel_batches.
        self.parallel = max(1, parallel)
        self.translator = ctranslate2.Translator(
            str(directory), device="cpu", compute_type=quantization,
            intra_threads=max(1, threads // self.parallel), inter_threads=self.parallel,
        )
        vocabulary = json.loads((directory / "shared_vocabulary.json").read_text("utf-8"))
        self._tokens: list[str] = vocabulary
        self._ids = {token: index for index, token in enumerate(vocabulary)}

    def generate_ids(
        self, batch: Sequence[Sequence[int]], settings: GenerationSettings,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[list[int]]:
        """Generated ids per input, without the start and end tokens.

        ``should_stop`` can end the batch early only under greedy search, where CTranslate2
        calls back at each step; with beams the batch finishes its pass.
        """
        for ids in batch:
            if len(ids) > self.max_input_length:  # never cut silently (see module docstring)
                raise ValueError(f"input of {len(ids)} tokens exceeds the window "
                                 f"of {self.max_input_length}")
        source = [[self._tokens[i] for i in ids] for ids in batch]
        results = self.translator.translate_batch(
            source,
            beam_size=settings.num_beams,
            num_hypotheses=1,
            length_penalty=settings.length_penalty,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            max_input_length=self.max_input_length,
            max_decoding_length=settings.max_new_tokens,
            min_decoding_length=settings.min_new_tokens,
            return_scores=False,
            callback=(lambda _step: should_stop())
            if should_stop is not None and settings.num_beams == 1 else None,
        )
        return [[self._ids[token] for token in r.hypotheses[0]] for r in results]


def load(
    source: Path, revision: str, *, data_dir: Path, quantization: str, threads: int,
    window: int, timeout_s: float, parallel: int = 1,
) -> tuple[FastTokenizer, CTranslate2Runtime]:
    """Tokenizer and runtime of the cached conversion of ``source`` (converted when missing)."""
    target = converted_dir(data_dir, revision, quantization)
    ensure_converted(source, target, quantization, timeout_s=timeout_s)
    tokenizer = FastTokenizer.from_dir(target)
    window = min(window, tokenizer.model_max_length)
    runtime = CTranslate2Runtime(target, quantization=quantization, threads=threads,
                                 max_input_length=window, parallel=parallel)
    return tokenizer, runtime


USAGE = """usage: python -m service.engines.ctranslate2_runtime prepare
       python -m service.engines.ctranslate2_runtime convert SRC OUT QUANTIZATION

prepare: convert the configured model (BRIEFING_MODEL, BRIEFING_QUANTIZATION, ...) into the
data dir's cache now, e.g. at image build time, so the first start does not pay for it."""


def _main(argv: list[str]) -> int:
    if argv == ["prepare"]:
        from service.config import get_settings
        from service.engines import prompt_family
        from service.engines.seq2seq import load_seq2seq
        from service.prompts import load_prompts

        settings = get_settings().model_copy(update={"runtime": "ctranslate2"})
        prompts = load_prompts(settings.prompts_dir, family=prompt_family(settings))
        engine = load_seq2seq(settings, prompts)
        print(getattr(engine.runtime, "directory", ""))
        return 0
    if len(argv) == 4 and argv[0] == "convert":
        convert(Path(argv[1]), Path(argv[2]), argv[3])
        return 0
    print(USAGE, file=sys.stderr)
    return 2

if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
