"""Seq2seq engine: a local transformers model, tokenize → generate → decode.

transformers 5 has no summarization pipeline, so the three steps are ours, and they are
separate methods (``prepare``, ``run``, ``decode``) so the micro-batcher can overlap them.
Truncation is explicit (``max_length=window``) and the request path keeps every input within
the window, so nothing is cut silently.

Generation runs on one of two runtimes (``BRIEFING_RUNTIME``): ``torch`` (transformers
``generate()``), or ``ctranslate2`` (the model converted once to int8; see
ctranslate2_runtime.py), which ``auto`` prefers because it is faster and smaller. torch and
transformers are imported lazily, so the extractive engine, the CLI's fast paths and a server
on CTranslate2 never pay for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from service.config import Settings
from service.engines.base import GenerationRequest, Prepared, ShouldStop
from service.engines.families import (
    Family,
    detect_family,
    model_window,
    read_config,
    tokenizer_max_length,
)
from service.engines.text_tokenizer import TextTokenizer, from_transformers
from service.errors import EngineError, ModelUnavailable
from service.prompts import GenerationSettings, PromptSet

if TYPE_CHECKING:
    from service.cancellation import Cancellation

log = logging.getLogger(__name__)

HF_ENDPOINT = os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def local_model_dir(settings: Settings, model_id: str | None = None) -> Path:
    """Where ``briefing model pull`` puts a hub model inside the data dir."""
    return settings.models_dir / (model_id or settings.model).replace("/", "--")


def directory_revision(directory: Path) -> str:
    """Cheap revision of a model directory: config contents plus each file's name and size.

    Hashing gigabytes of weights at every start would cost seconds; sizes and the config are
    what change when a different model is put in place.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        digest.update(f"{rel}\0{path.stat().st_size}\0".encode())
        if path.name in ("config.json", "generation_config.json", "tokenizer_config.json"):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_is_here(settings: Settings) -> bool:
    """Whether the configured model is a local directory or was pulled into the data dir."""
    return Path(settings.model).expanduser().is_dir() or local_model_dir(settings).is_dir()


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """One quick request instead of the hub client's minute of retries on a closed network."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    import httpx

    try:
        httpx.head(HF_ENDPOINT, timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return True


def resolve_model_source(settings: Settings) -> tuple[str, str]:
    """(what to pass to ``from_pretrained``, revision) — local copies first, the hub last."""
    as_path = Path(settings.model).expanduser()
    if as_path.is_dir():
        return str(as_path), directory_revision(as_path)
    pulled = local_model_dir(settings)
    if pulled.is_dir():
        return str(pulled), directory_revision(pulled)
    if not settings.model_hub:  # nothing leaves the machine unless asked to
        raise ModelUnavailable(
            f"model {settings.model!r} is neither a local directory nor in {pulled}. Run "
            f"`briefing model pull {settings.model}` (on a machine with internet), set "
            "BRIEFING_MODEL to a local model directory, or set BRIEFING_MODEL_HUB=true to "
            "download it from the model hub at start."
        )
    if not hub_reachable():
        raise ModelUnavailable(
            f"model {settings.model!r} is neither a local directory nor in {pulled}, and the "
            f"model hub ({HF_ENDPOINT}) cannot be reached. Run `briefing model pull "
            f"{settings.model}` on a machine with internet, or set BRIEFING_MODEL to a local "
            "model directory."
        )
    return settings.model, settings.model_revision or "main"


class Runtime(Protocol):
    """Where generation runs: transformers on torch, or CTranslate2."""

    name: str  # "torch", "ctranslate2-int8", ...

    def generate_ids(
        self, batch: Sequence[Sequence[int]], settings: GenerationSettings,
        should_stop: ShouldStop | None = None,
    ) -> list[list[int]]: ...


class TorchRuntime:
    """transformers ``generate()`` under ``inference_mode`` on an eval-mode model."""

    name = "torch"

    def __init__(self, model: Any, *, pad_id: int, eos_id: int) -> None:
        self.model = model
        self.pad_id = pad_id
        self.eos_id = eos_id

    def generate_ids(
        self, batch: Sequence[Sequence[int]], settings: GenerationSettings,
        should_stop: ShouldStop | None = None,
    ) -> list[list[int]]:
        """Generated ids per input, without the decoder start token, the end token, padding.

        ``should_stop`` is asked after every decoding step; True ends the batch there.
        """
        import torch

        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):  # right padding, as the tokenizer would pad
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            mask[row, : len(ids)] = 1
        options: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "min_new_tokens": settings.min_new_tokens,
            "num_beams": settings.num_beams,
            "no_repeat_ngram_size": settings.no_repeat_ngram_size,
            "do_sample": False,
        }
        if settings.num_beams > 1:  # beam-only options warn under greedy search
            options.update(length_penalty=settings.length_penalty, early_stopping=True)
        if should_stop is not None:
            options["stopping_criteria"] = _stopping_criteria(should_stop)
        with torch.inference_mode():
            output = self.model.generate(input_ids=input_ids, attention_mask=mask, **options)
        return [self._strip(row[1:]) for row in output.tolist()]

    def _strip(self, ids: list[int]) -> list[int]:
        return ids[: ids.index(self.eos_id)] if self.eos_id in ids else ids


def _stopping_criteria(should_stop: ShouldStop) -> Any:
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Abandoned(StoppingCriteria):
        """Every row is done once the batch's callers have all gone."""

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            return torch.full((input_ids.shape[0],), should_stop(), dtype=torch.bool,
                              device=input_ids.device)

    return StoppingCriteriaList([Abandoned()])


class Seq2SeqEngine:
    """A tokenizer and a runtime, split into prepare → run → decode for the batcher.

    ``generate`` runs the three steps directly (one batch per generation settings); the
    micro-batcher (service/engines/batcher.py) calls them on its own threads instead.
    """

    name = "seq2seq"

    def __init__(
        self, tokenizer: TextTokenizer, runtime: Runtime, *, model_id: str, revision: str,
        window: int, prompts: PromptSet, family: str = "t5",
    ) -> None:
        self.tokenizer = tokenizer
        self.runtime = runtime
        self.model_id = model_id
        self.model_revision = revision
        self.window = window
        self.family = family  # t5, bart, pegasus or mt5 (service/engines/families.py)
        self.runtime_name = runtime.name
        # The source text gets what the longest prompt leaves of the window, special tokens
        # included (</s> for T5; <s> and </s> for BART).
        overhead = max(len(self.tokenizer.encode(p.render(""))) for p in prompts.prompts.values())
        self.max_input_tokens = max(16, window - overhead)
        # As many batches at a time as the runtime runs side by side (CTranslate2's
        # inter_threads, Settings.parallel_batches); torch uses every core for one batch.
        self.parallel = getattr(runtime, "parallel", 1)
        self._slots = threading.BoundedSemaphore(self.parallel)

    def close(self) -> None:
        """Nothing held beyond memory: the micro-batcher that serves it owns the threads."""

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, special=False))

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        ids = self.tokenizer.encode(text, special=False)
        pieces = [ids[i : i + max_tokens] for i in range(0, len(ids), max_tokens)]
        return [piece.strip() for piece in self.tokenizer.decode_batch(pieces)]

    def prepare(self, request: GenerationRequest) -> Prepared:
        """Render the prompt and tokenize it, cut to the window (the caller keeps within it)."""
        ids = self.tokenizer.encode(request.prompt.render(request.text), max_length=self.window)
        return Prepared(tuple(ids), request.prompt.generation)

    def run(
        self, batch: Sequence[Prepared], should_stop: ShouldStop | None = None
    ) -> list[list[int]]:
        """Generate one batch; all its items share one generation settings."""
        settings = batch[0].settings
        if any(p.settings != settings for p in batch):
            raise ValueError("one batch must share one generation settings")
        try:
            with self._slots:
                return self.runtime.generate_ids([p.ids for p in batch], settings, should_stop)
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise EngineError(f"generation failed: {type(exc).__name__}: {exc}") from exc

    def decode(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        return [text.strip() for text in self.tokenizer.decode_batch(outputs)]

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        """Without the micro-batcher (tests, benches): each settings group in one batch.
        The service always batches (``BatchedEngine``), and cancels there."""
        results: list[str] = [""] * len(requests)
        groups: dict[GenerationSettings, list[tuple[int, Prepared]]] = {}
        for index, request in enumerate(requests):
            prepared = self.prepare(request)
            groups.setdefault(prepared.settings, []).append((index, prepared))
        for group in groups.values():
            outputs = self.decode(self.run([p for _, p in group]))
            for (index, _), output in zip(group, outputs, strict=True):
                results[index] = output
        return results


def parallel_batches(settings: Settings) -> int:
    """Batches CTranslate2 runs at the same time (BRIEFING_PARALLEL_BATCHES), at most one
    per thread. Measured on 2 cores with the flan-t5-base shape: 8 articles handed over at
    once as two batches of 4 side by side, one thread each, took 0.77x the time of one batch
    of 8 on both threads (bench/ct2_options.py); but 8 callers arriving as requests do
    (bench/latency.py) gathered smaller, uneven batches and gained nothing (0.98x the
    throughput), so one batch at a time stays the default."""
    return max(1, min(settings.parallel_batches, settings.torch_threads or usable_cores()))


def usable_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def runtime_candidates(settings: Settings) -> list[str]:
    """Runtimes to try in order; ``auto`` prefers CTranslate2 (faster, see bench/latency.py)."""
    from service.engines import ctranslate2_runtime

    if settings.runtime != "auto":
        return [settings.runtime]
    return ["ctranslate2", "torch"] if ctranslate2_runtime.available() else ["torch"]


Loaded = tuple[TextTokenizer, Runtime, dict[str, Any]]  # tokenizer, runtime, model config


def _load(source: str, revision: str, settings: Settings) -> Loaded:
    """Tokenizer, runtime and the model's config, trying the runtimes in order; the last
    failure is raised."""
    candidates = runtime_candidates(settings)
    for number, runtime in enumerate(candidates, start=1):
        fallback = number < len(candidates)
        try:
            if runtime == "ctranslate2":
                # A first start converts the model (a one-time cost). With torch to fall back
                # on, conversion gets half the load budget, so a slow one still leaves time
                # to serve on torch rather than on the extractive engine.
                budget = settings.model_load_timeout_s / (2 if fallback else 1)
                return _load_ctranslate2(source, revision, settings, timeout_s=budget)
            return _load_torch(source, settings)
        except Exception as exc:
            if not fallback:
                raise
            log.warning("the %s runtime did not load (%s: %s); trying %s%s", runtime,
                        type(exc).__name__, exc, candidates[number],
                        "; convert ahead of time with `python -m "
                        "service.engines.ctranslate2_runtime prepare`"
                        if runtime == "ctranslate2" else "")
    raise AssertionError("unreachable")


def _load_torch(source: str, settings: Settings) -> Loaded:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.set_num_threads(settings.torch_threads or usable_cores())
    kwargs: dict[str, Any] = {}
    if not Path(source).is_dir() and settings.model_revision:
        kwargs["revision"] = settings.model_revision
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForSeq2SeqLM.from_pretrained(source, **kwargs)
    model.eval()
    runtime = TorchRuntime(model, pad_id=tokenizer.pad_token_id, eos_id=tokenizer.eos_token_id)
    return from_transformers(tokenizer), runtime, model.config.to_dict()


def _load_ctranslate2(
    source: str, revision: str, settings: Settings, *, timeout_s: float
) -> Loaded:
    from service.engines import ctranslate2_runtime

    if not ctranslate2_runtime.available():
        raise ModelUnavailable(
            "BRIEFING_RUNTIME=ctranslate2, but the ctranslate2 package is not installed: "
            "`pip install ctranslate2`, or set BRIEFING_RUNTIME=torch"
        )
    directory = Path(source)
    if not directory.is_dir():  # a hub id: convert from the downloaded snapshot
        from huggingface_hub import snapshot_download

        directory = Path(snapshot_download(
            repo_id=source, revision=settings.model_revision,
            allow_patterns=["*.json", "*.model", "*.safetensors", "*.txt"],
        ))
        revision = directory_revision(directory)
    config = read_config(directory)
    family = detect_family(config, directory)  # before converting: a clear refusal
    window = model_window(config, tokenizer_max_length(directory), family,
                          settings.max_input_tokens)
    tokenizer, runtime = ctranslate2_runtime.load(
        directory, revision, data_dir=settings.data_dir, quantization=settings.quantization,
        threads=settings.torch_threads or usable_cores(), window=window,
        timeout_s=timeout_s, parallel=parallel_batches(settings),
    )
    return tokenizer, runtime, config


def load_seq2seq(settings: Settings, prompts: PromptSet) -> Seq2SeqEngine:
    """Load the configured model within ``model_load_timeout_s`` or raise ModelUnavailable.

    ``prompts`` must be its family's (:func:`service.engines.prompt_family`): an instruction
    fed to BART would be read as article text."""
    source, revision = resolve_model_source(settings)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["loaded"] = _load(source, revision, settings)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    # A daemon thread: if loading hangs (slow network), the caller gives up and the process
    # can still exit.
    thread = threading.Thread(target=target, name="model-loader", daemon=True)
    thread.start()
    thread.join(settings.model_load_timeout_s)
    if thread.is_alive():
        raise ModelUnavailable(
            f"loading model {settings.model!r} took longer than "
            f"{settings.model_load_timeout_s:g}s (BRIEFING_MODEL_LOAD_TIMEOUT_S)"
        )
    if "error" in box:
        exc = box["error"]
        raise ModelUnavailable(
            f"could not load model {settings.model!r}: {type(exc).__name__}: {exc}"
        ) from exc
    tokenizer, runtime, config = box["loaded"]
    family = detect_family(config, settings.model)
    if prompts.family != family.prompts:
        raise ModelUnavailable(
            f"model {settings.model!r} is a {family.name} model, but the prompts loaded are "
            f"{_prompts_name(prompts.family)}'s; its own are in {_prompts_name(family.prompts)}"
        )
    window = model_window(config, tokenizer.model_max_length, family, settings.max_input_tokens)
    log.info("model %r (%s family, %d-token window) runs on %s", settings.model, family.name,
             window, runtime.name)
    return Seq2SeqEngine(
        tokenizer, runtime, model_id=settings.model, revision=revision, window=window,
        prompts=prompts, family=family.name,
    )


def _prompts_name(family: str | None) -> str:
    return f"prompts/{family}/" if family else "prompts/ (the instruction prompts)"


def model_family(settings: Settings) -> Family | None:
    """The configured model's family, read from its config without loading it or going on
    the network unless ``BRIEFING_MODEL_HUB`` allows it; None when it cannot be known."""
    as_path = Path(settings.model).expanduser()
    directory = as_path if as_path.is_dir() else local_model_dir(settings)
    config: dict[str, Any] = {}
    if directory.is_dir():
        try:
            config = read_config(directory)
        except (OSError, ValueError):  # the load reports it
            return None
    elif settings.model_hub and hub_reachable():
        try:
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(settings.model, "config.json",
                                   revision=settings.model_revision, etag_timeout=5)
            config = read_config(Path(path).parent)
        except Exception as exc:  # the load reports the real problem
            log.debug("no config.json for %r from the hub: %s", settings.model, exc)
    try:
        return detect_family(config, settings.model) if config else None
    except ModelUnavailable:
        return None


# What a pull downloads: configs, tokenizer files, safetensors weights; a repository without
# safetensors (csebuetnlp/mT5_multilingual_XLSum) gets its PyTorch weights instead.
PULL_PATTERNS = ["*.json", "*.model", "*.safetensors", "*.txt"]
TORCH_WEIGHTS = "pytorch_model*.bin"


def pull_plan(settings: Settings, model_id: str) -> tuple[list[str], int | None]:
    """(the file patterns a pull of ``model_id`` downloads, their size in bytes, None when
    the hub did not say) from the hub's file listing."""
    from fnmatch import fnmatch

    from huggingface_hub import HfApi

    info = HfApi(endpoint=HF_ENDPOINT).model_info(
        model_id, revision=settings.model_revision, files_metadata=True, timeout=10)
    files = [(s.rfilename, s.size) for s in info.siblings or []]
    patterns = list(PULL_PATTERNS)
    if not any(name.endswith(".safetensors") for name, _ in files):
        patterns.append(TORCH_WEIGHTS)
    chosen = [size for name, size in files
              if "/" not in name and any(fnmatch(name, p) for p in patterns)]
    size = sum(chosen) if chosen and all(s is not None for s in chosen) else None
    return patterns, size


def pull_model(
    settings: Settings, model_id: str, *, directory: Path | None = None, timeout_s: float = 600.0,
    patterns: list[str] | None = None,
) -> Path:
    """Download a hub model into the data dir so the service can start offline later."""
    if not hub_reachable():
        raise ModelUnavailable(
            f"cannot download {model_id!r}: the model hub ({HF_ENDPOINT}) cannot be reached "
            "from this machine. Pull on a machine with internet and copy "
            f"{local_model_dir(settings, model_id)} here, or set BRIEFING_MODEL to a local "
            "model directory."
        )
    from huggingface_hub import snapshot_download

    target = directory or local_model_dir(settings, model_id)
    snapshot_download(
        repo_id=model_id, revision=settings.model_revision, local_dir=target,
        allow_patterns=patterns or PULL_PATTERNS, etag_timeout=min(timeout_s, 30.0),
    )
    return target
