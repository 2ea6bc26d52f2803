"""`make run`'s first step (issue 23, item 4): `briefing model pull --if-missing`.

There is no model hub here: the unreachable path runs for real against a closed loopback
port; the pull itself (huggingface_hub's download) is replaced, and what is checked is our
decision, the patterns and the size said.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from service import cli
from service.config import Settings
from service.engines import seq2seq


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def run_pull(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, float]]:
    def run(**overrides: Any) -> tuple[int, str, float]:
        settings = make_settings(**{"engine": "auto", "model": "org/news-model", **overrides})
        monkeypatch.setattr(cli, "get_settings", lambda: settings)
        started = time.monotonic()
        status = cli.main(["model", "pull", "--if-missing"])
        return status, capsys.readouterr().err, time.monotonic() - started

    return run


def test_an_unreachable_hub_starts_at_once_on_the_extractive_engine(
    run_pull: Callable[..., tuple[int, str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(seq2seq, "HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    status, err, seconds = run_pull()
    assert status == 0 and seconds < 5
    assert "did not answer within 3 s" in err and "extractive engine" in err
    assert "briefing model pull org/news-model" in err


def test_nothing_to_do_when_the_model_is_here_or_not_needed(
    run_pull: Callable[..., tuple[int, str, float]], monkeypatch: pytest.MonkeyPatch,
    tiny_model_dir: Path,
) -> None:
    def no_network(*args: object, **kwargs: object) -> bool:
        raise AssertionError("no network call expected")

    monkeypatch.setattr(seq2seq, "hub_reachable", no_network)
    assert run_pull(model=str(tiny_model_dir))[:2] == (0, "")
    assert run_pull(engine="extractive")[:2] == (0, "")


def test_a_reachable_hub_pulls_with_the_size(
    run_pull: Callable[..., tuple[int, str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled: dict[str, Any] = {}
    monkeypatch.setattr(seq2seq, "hub_reachable", lambda timeout_s=3.0: True)
    monkeypatch.setattr(seq2seq, "pull_plan", lambda s, m: (["*.json", "*.bin"], 990_000_000))

    def pull(settings: Settings, model_id: str, **kwargs: Any) -> Path:
        pulled.update(model_id=model_id, **kwargs)
        return seq2seq.local_model_dir(settings, model_id)

    monkeypatch.setattr(seq2seq, "pull_model", pull)
    status, err, _ = run_pull()
    assert status == 0
    assert "downloading org/news-model (990 MB)" in err and "model saved in" in err
    assert pulled["model_id"] == "org/news-model" and pulled["patterns"] == ["*.json", "*.bin"]

    def failing(*args: object, **kwargs: object) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(seq2seq, "pull_model", failing)
    status, err, _ = run_pull()
    assert status == 0 and "disk full" in err and "extractive engine" in err


def test_the_pull_takes_pytorch_weights_only_without_safetensors(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    def listing(*names_sizes: tuple[str, int]) -> Callable[..., Any]:
        return lambda self, *a, **k: SimpleNamespace(siblings=[
            SimpleNamespace(rfilename=n, size=s) for n, s in names_sizes])

    common = [("config.json", 1_000), ("spiece.model", 4_000_000), ("tf_model.h5", 10**9)]
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info",
                        listing(*common, ("pytorch_model.bin", 2_300_000_000)))
    patterns, size = seq2seq.pull_plan(make_settings(), "csebuetnlp/mT5_multilingual_XLSum")
    assert "pytorch_model*.bin" in patterns and size == 2_304_001_000
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", listing(
        *common, ("model.safetensors", 990_000_000), ("pytorch_model.bin", 990_000_000)))
    patterns, size = seq2seq.pull_plan(make_settings(), "google/flan-t5-base")
    assert "pytorch_model*.bin" not in patterns and size == 994_001_000
