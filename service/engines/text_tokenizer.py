"""Tokenizers behind one small interface, safe to call from many threads at once.

transformers' fast tokenizers change their backend's truncation state on every call that
passes ``truncation``/``max_length``, so concurrent calls with different settings race (one
thread's input gets another's truncation). :class:`FastTokenizer` uses the ``tokenizers``
backend directly and never changes its state: it truncates the encoding itself, exactly as
transformers does (the content is cut, then the post-processor adds ``</s>``), which
tests/test_runtime.py checks against transformers. It needs neither torch nor transformers,
so a server on CTranslate2 loads it from the converted model's ``tokenizer.json``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol


class TextTokenizer(Protocol):
    """What the engine needs from a tokenizer (transformers' or ``tokenizers``' own)."""

    model_max_length: int

    def encode(
        self, text: str, *, special: bool = True, max_length: int | None = None
    ) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def decode_batch(self, outputs: Sequence[Sequence[int]]) -> list[str]: ...


class FastTokenizer:
    """A ``tokenizers.Tokenizer`` used without state changes (see the module docstring)."""

    def __init__(self, backend: Any, *, model_max_length: float, clean_up: bool) -> None:
        self._tokenizer = backend
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_max_length = int(min(model_max_length, 10**9))
        self._clean_up = clean_up
        self._specials = self._tokenizer.num_special_tokens_to_add(False)

    @classmethod
    def from_dir(cls, directory: Path) -> FastTokenizer:
        """From ``tokenizer.json`` (and ``tokenizer_config.json``) saved by transformers."""
        from tokenizers import Tokenizer

        config_path = directory / "tokenizer_config.json"
        config: dict[str, Any] = {}
        if config_path.is_file():
            config = json.loads(config_path.read_text(encoding="utf-8"))
        return cls(
            Tokenizer.from_file(str(directory / "tokenizer.json")),
            model_max_length=float(config.get("model_max_length") or 10**9),
            clean_up=bool(config.get("clean_up_tokenization_spaces", False)),
        )

    def encode(
        self, text: str, *, special: bool = True, max_length: int | None = None
    ) -> list[int]:
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if max_length is not None:
            encoding.truncate(max_length - (self._specials if special else 0))
        if special:
            encoding = self._tokenizer.post_process(encoding)
        return list(encoding.ids)

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_batch([ids])[0]

    def decode_batch(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        texts = self._tokenizer.decode_batch([list(o) for o in outputs],
                                             skip_special_tokens=True)
        return [_clean_up(t) for t in texts] if self._clean_up else texts


def _clean_up(text: str) -> str:
    """transformers' ``clean_up_tokenization``: spaces before punctuation and contractions."""
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                          (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"),
                          (" 're", "'re")):
        text = text.replace(before, after)
    return text


class HFTokenizer:
    """A transformers tokenizer without a ``tokenizers`` backend; one call at a time."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.model_max_length = int(min(tokenizer.model_max_length, 10**9))
        self._lock = threading.Lock()

    def encode(
        self, text: str, *, special: bool = True, max_length: int | None = None
    ) -> list[int]:
        options: dict[str, Any] = {"add_special_tokens": special}
        if max_length is not None:
            options.update(truncation=True, max_length=max_length)
        with self._lock:
            return list(self.tokenizer(text, **options)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_batch([ids])[0]

    def decode_batch(self, outputs: Sequence[Sequence[int]]) -> list[str]:
        with self._lock:
            return list(self.tokenizer.batch_decode([list(o) for o in outputs],
                                                    skip_special_tokens=True))


def from_transformers(tokenizer: Any) -> TextTokenizer:
    """The fast, stateless wrapper where the tokenizer has a ``tokenizers`` backend."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return HFTokenizer(tokenizer)
    return FastTokenizer(
        backend, model_max_length=tokenizer.model_max_length,
        clean_up=bool(getattr(tokenizer, "clean_up_tokenization_spaces", False)),
    )
