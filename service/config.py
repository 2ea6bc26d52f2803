"""Settings: every knob is an environment variable with the prefix ``BRIEFING_``.

Read once through :func:`get_settings` (cached) so tests can build their own ``Settings``
and hand them to the app factory instead of patching a module-level object.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineChoice = Literal["auto", "seq2seq", "extractive"]


class Settings(BaseSettings):
    """Service configuration; defaults run a local, single-user service."""

    model_config = SettingsConfigDict(env_prefix="BRIEFING_", extra="ignore")

    # Engine and model
    engine: EngineChoice = Field(
        "auto", description="seq2seq, extractive, or auto (seq2seq, else extractive)"
    )
    model: str = Field("google/flan-t5-base", description="Hub id or local model directory")
    model_revision: str | None = Field(None, description="Hub revision (branch, tag or commit)")
    model_load_timeout_s: float = Field(
        60.0, gt=0, description="Give up loading the model after this many seconds"
    )
    max_input_tokens: int = Field(
        512, gt=8, description="Model input window in tokens (prompt included)"
    )
    torch_threads: int = Field(0, ge=0, description="torch intra-op threads; 0 = all cores")

    # Storage
    data_dir: Path = Field(Path("var"), description="SQLite files and downloaded models")
    sqlite_timeout_s: float = Field(
        5.0, gt=0, description="Wait this long for a locked SQLite file before giving up"
    )

    # Limits
    max_body_bytes: int = Field(1_000_000, gt=0, description="Largest accepted request body")
    max_input_chars: int = Field(
        200_000, gt=0, description="Characters of cleaned text summarized; the rest is dropped"
    )
    reduce_max_depth: int = Field(4, gt=0, description="Most rounds of hierarchical reduction")
    short_max_sentences: int = Field(2, gt=0, description="Sentences in the short briefing")
    short_max_words: int = Field(50, gt=0, description="Words in the short briefing")
    long_max_words: int = Field(200, gt=0, description="Words in the long briefing")

    # Checks
    unsupported: Literal["flag", "drop"] = Field(
        "flag", description="Sentences with unsupported facts: flag them, or drop them"
    )

    # Access and load
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys for /v1/*; unset = open (local use)"
    )
    max_queue: int = Field(
        16, ge=0, description="Briefings waiting for the engine; more get 429 overloaded"
    )
    request_timeout_s: float = Field(
        120.0, gt=0, description="Answer 503 timeout when a briefing takes longer"
    )

    # Prompts
    prompts_dir: Path | None = Field(None, description="Prompt templates; default: ./prompts")

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("BRIEFING_MODEL must name a hub id or a local directory")
        return value.strip()

    @property
    def api_key_list(self) -> list[str]:
        """The configured API keys; empty when the API is open."""
        if self.api_keys is None:
            return []
        return [k.strip() for k in self.api_keys.get_secret_value().split(",") if k.strip()]

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "articles.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
