"""A real OpenAI-compatible server for tests and benchmarks: ``transformers serve`` with a
tiny random-weight causal LM built here.

The model is a 2-layer Llama (hidden size 32) with a word-level tokenizer trained on the seed
article and a chat template of our own, saved with ``save_pretrained`` into a directory and
served from there (``transformers serve <dir>``): nothing is downloaded. Its answers are
random words, but the protocol, the usage counts, the timeouts and the concurrency are the
real server's. ``running_server`` starts it on a free loopback port and waits for
``/health`` (``transformers serve`` takes 10-20 s to import and load on two cores).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
STARTUP_TIMEOUT_S = 180.0
# Ours, not a real model family's: system and user turns, then the assistant's.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
_SPECIAL = ["<|pad|>", "<|bos|>", "<|end|>", "<|unk|>", "<|system|>", "<|user|>",
            "<|assistant|>"]


def build_tiny_chat_model(directory: Path, *, seed: int = 0) -> Path:
    """Train a word-level tokenizer on the seed article, make a 2-layer Llama, save both
    (and the chat template) into ``directory``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    lines = (HERE / "seed_article.txt").read_text(encoding="utf-8").splitlines()
    tokenizer = Tokenizer(models.WordLevel(unk_token="<|unk|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer.train_from_iterator(
        [line for line in lines if line.strip()],
        trainers.WordLevelTrainer(vocab_size=600, special_tokens=_SPECIAL),
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|bos|>", eos_token="<|end|>",
        pad_token="<|pad|>", unk_token="<|unk|>",
    )
    wrapped.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(wrapped), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=16384,
        bos_token_id=wrapped.bos_token_id, eos_token_id=wrapped.eos_token_id,
        pad_token_id=wrapped.pad_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    wrapped.save_pretrained(directory)
    return directory


@dataclass
class ChatServer:
    """A started server: its API base (``…/v1``) and the model id it serves."""

    base_url: str
    model: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command() -> list[str] | None:
    """How to run ``transformers serve`` here, or None when it is not installed."""
    try:
        import fastapi  # noqa: F401
        import openai  # noqa: F401 - transformers[serving] brings it; serve imports it
        import uvicorn  # noqa: F401
    except ImportError:
        return None
    script = shutil.which("transformers", path=str(Path(sys.executable).parent))
    return [script] if script else None


@contextmanager
def running_server(
    model_dir: Path, log_dir: Path, *, startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[ChatServer]:
    """``transformers serve model_dir`` on a free loopback port, until the block ends.

    Raises RuntimeError (with the server's last log lines) when it cannot start in time.
    """
    command = serve_command()
    if command is None:
        raise RuntimeError("transformers serve is not installed: pip install "
                           "'transformers[serving]' (the test extra)")
    port = free_port()
    log_path = log_dir / f"transformers-serve-{port}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
           "OMP_NUM_THREADS": "1"}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
             "--device", "cpu", "--log-level", "warning"],
            stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    server = ChatServer(f"http://127.0.0.1:{port}/v1", str(model_dir), process, log_path)
    try:
        _wait_healthy(server, startup_timeout_s)
        yield server
    finally:
        _stop(process)


def _wait_healthy(server: ChatServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    health = server.base_url.removesuffix("/v1") + "/health"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {server.process.returncode}: "
                               f"{_tail(server.log_path)}")
        try:
            if httpx.get(health, timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"transformers serve did not answer {health} within {timeout_s:g}s: "
                       f"{_tail(server.log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the server and its workers
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
