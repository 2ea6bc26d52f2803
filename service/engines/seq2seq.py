"""Seq2seq engine: a local transformers model, tokenize → ``generate()`` → decode.

transformers 5 has no summarization pipeline, so the three steps are ours; truncation is
explicit (``truncation=True, max_length=window``) and the request path keeps every input within
the window, so nothing is cut silently. torch and transformers are imported lazily so that the
extractive engine, the CLI's fast paths and the tests of other stages never pay for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.config import Settings
from service.engines.base import GenerationRequest
from service.errors import EngineError, ModelUnavailable
from service.prompts import PromptSet

log = logging.getLogger(__name__)

HF_ENDPOINT = os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def local_model_dir(settings: Settings, model_id: str | None = None) -> Path:
    """Where ``briefing model pull`` puts a hub model inside the data dir."""
    return settings.models_dir / (model_id or settings.model).replace("/", "--")


def directory_fingerprint(directory: Path) -> str:
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
        return str(as_path), directory_fingerprint(as_path)
    pulled = local_model_dir(settings)
    if pulled.is_dir():
        return str(pulled), directory_fingerprint(pulled)
    if not hub_reachable():
        raise ModelUnavailable(
            f"model {settings.model!r} is neither a local directory nor in {pulled}, and the "
            f"model hub ({HF_ENDPOINT}) cannot be reached. Run `briefing model pull "
            f"{settings.model}` on a machine with internet, or set BRIEFING_MODEL to a local "
            "model directory."
        )
    return settings.model, settings.model_revision or "main"


class Seq2SeqEngine:
    """A loaded tokenizer and model; ``generate`` runs one batch per prompt kind."""

    name = "seq2seq"

    def __init__(
        self, tokenizer: Any, model: Any, *, model_id: str, revision: str, window: int,
        prompts: PromptSet,
    ) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.model_id = model_id
        self.model_revision = revision
        self.window = window
        # The source text gets what the longest prompt leaves of the window (+1 for </s>).
        overhead = max(self.count_tokens(p.render("")) for p in prompts.prompts.values())
        self.max_input_tokens = max(16, window - overhead - 1)
        # One generate() at a time: torch already uses every core for one batch.
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        pieces = (ids[i : i + max_tokens] for i in range(0, len(ids), max_tokens))
        return [self.tokenizer.decode(p, skip_special_tokens=True).strip() for p in pieces]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        results: list[str] = [""] * len(requests)
        by_kind: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_kind.setdefault(request.prompt.kind, []).append(index)
        for indices in by_kind.values():
            prompt = requests[indices[0]].prompt
            texts = [prompt.render(requests[i].text) for i in indices]
            for i, output in zip(indices, self._generate_batch(texts, prompt), strict=True):
                results[i] = output
        return results

    def _generate_batch(self, texts: list[str], prompt: Any) -> list[str]:
        import torch

        settings = prompt.generation
        try:
            with self._lock, torch.inference_mode():
                encoded = self.tokenizer(
                    texts, return_tensors="pt", padding=True, truncation=True,
                    max_length=self.window,
                )
                output = self.model.generate(
                    **encoded,
                    max_new_tokens=settings.max_new_tokens,
                    min_new_tokens=settings.min_new_tokens,
                    num_beams=settings.num_beams,
                    no_repeat_ngram_size=settings.no_repeat_ngram_size,
                    length_penalty=settings.length_penalty,
                    early_stopping=settings.num_beams > 1,
                    do_sample=False,
                )
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise EngineError(f"generation failed: {type(exc).__name__}: {exc}") from exc
        decoded = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        return [text.strip() for text in decoded]


def _load(source: str, revision: str, settings: Settings) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.set_num_threads(settings.torch_threads or os.cpu_count() or 1)
    kwargs: dict[str, Any] = {}
    if not Path(source).is_dir() and settings.model_revision:
        kwargs["revision"] = settings.model_revision
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForSeq2SeqLM.from_pretrained(source, **kwargs)
    model.eval()
    return tokenizer, model


def load_seq2seq(settings: Settings, prompts: PromptSet) -> Seq2SeqEngine:
    """Load the configured model within ``model_load_timeout_s`` or raise ModelUnavailable."""
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
    tokenizer, model = box["loaded"]
    window = min(settings.max_input_tokens, int(tokenizer.model_max_length))
    return Seq2SeqEngine(
        tokenizer, model, model_id=settings.model, revision=revision, window=window,
        prompts=prompts,
    )


def pull_model(
    settings: Settings, model_id: str, *, directory: Path | None = None, timeout_s: float = 600.0
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
        allow_patterns=["*.json", "*.model", "*.safetensors", "*.txt"],
        etag_timeout=min(timeout_s, 30.0),
    )
    return target
