"""Settings: every knob is an environment variable with the prefix ``BRIEFING_``.

Read once through :func:`get_settings` (cached) so tests can build their own ``Settings``
and hand them to the app factory instead of patching a module-level object.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineChoice = Literal["auto", "seq2seq", "extractive", "llm"]
ENV_PREFIX = "BRIEFING_"
# Secrets that may come from a file instead (Docker and Kubernetes secrets): FIELD_file.
SECRET_FILES = {"api_keys": "api_keys_file", "slack_webhook_url": "slack_webhook_url_file",
                "llm_api_key": "llm_api_key_file", "webhook_secret": "webhook_secret_file"}

log = logging.getLogger(__name__)


def parse_allow_entry(entry: str) -> tuple[str, int | None]:
    """A ``BRIEFING_FETCH_ALLOW_HOSTS`` entry: ``host``, ``host:port``, ``[v6]``,
    ``[v6]:port`` or a bare IPv6 address, as (lower-case host, port or None)."""
    entry = entry.strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host, port = entry, ""
    host = host.strip().rstrip(".").lower()
    if not host or (port and not port.isdigit()):
        raise ValueError(f"BRIEFING_FETCH_ALLOW_HOSTS entry {entry!r} is not `host` or "
                         "`host:port`")
    return host, int(port) if port else None


def _base_url(value: str | None, name: str, example: str, credentials: str = "") -> str | None:
    """An http(s) base URL with a host, without credentials, query, fragment or spaces, and
    without its trailing slash; None when blank. ``credentials``: what to do instead."""
    from urllib.parse import urlsplit

    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"{name} is not a URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL with a host, e.g. {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{name} must not hold credentials{credentials}")
    if parts.query or parts.fragment or any(ch.isspace() for ch in value):
        raise ValueError(f"{name} is a base URL: no query, fragment or spaces")
    return value.rstrip("/")


def parse_rate(spec: str) -> limits.RateLimitItem:
    """``"60/minute"``, ``"10/second"``, ``"1000 per hour"`` … or ValueError saying so."""
    try:
        return limits.parse(spec)
    except ValueError as exc:
        raise ValueError(
            f"{spec!r} is not a rate: write it like 60/minute, 10/second or 1000/hour"
        ) from exc


class Settings(BaseSettings):
    """Service configuration; defaults run a local, single-user service."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # Serving
    host: str = Field("127.0.0.1", description="Address `briefing serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="Port `briefing serve` listens on")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest level logged"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text: readable lines; json: one JSON object per line"
    )

    # Engine and model
    engine: EngineChoice = Field(
        "auto", description="seq2seq, extractive, auto (seq2seq, else extractive), or llm (an "
        "OpenAI-compatible server: BRIEFING_LLM_*)"
    )
    model: str = Field("google/flan-t5-base", description="Hub id or local model directory")
    model_revision: str | None = Field(None, description="Hub revision (branch, tag or commit)")
    model_hub: bool = Field(
        False, description="Load a model that is not on this machine from the model hub at "
        "start (a download). Off: the start makes no network call; use `briefing model pull`"
    )
    model_load_timeout_s: float = Field(
        60.0, gt=0, description="Give up loading the model after this many seconds"
    )
    model_languages: str = Field(
        "en", description="Comma-separated ISO 639-1 codes the model is meant for; an article "
        "detected in another language gets a warning"
    )
    output_language: str = Field(
        "auto", description="The language briefings are written in when a request asks for "
        "none (digests and feeds too): auto (the article's own language) or a code such as "
        "de; only the llm engine writes in a language other than the article's"
    )
    max_input_tokens: int | None = Field(
        None, gt=8, description="Model input window in tokens (prompt included); unset: the "
        "model's own (its tokenizer's and position limit: 1024 for BART and PEGASUS, 512 for "
        "flan-t5), which a value here can lower but not raise"
    )
    torch_threads: int = Field(
        0, ge=0, description="Compute threads (torch or CTranslate2); 0 = all usable cores"
    )
    runtime: Literal["auto", "torch", "ctranslate2"] = Field(
        "auto", description="Where seq2seq runs; auto: CTranslate2 when it loads, else torch"
    )
    quantization: Literal["int8", "int8_float32", "int16", "float32"] = Field(
        "int8", description="CTranslate2 weights (converted once, cached in the data dir)"
    )
    max_batch_size: int = Field(8, ge=1, description="Most prompts generated in one batch")
    parallel_batches: int = Field(
        1, ge=1, description="Batches CTranslate2 generates at the same time, the threads "
        "shared between them (prompts due together are split between them). torch runs "
        "one batch at a time"
    )
    # 16,384 = 8 prompts of 512 tokens at 4 beams. Measured (bench/batch_memory.py, int8):
    # a 512-token prompt at 4 beams costs ~48 MB over the model with the flan-t5-base shape
    # (~18 MB small), so a full batch of 8 is ~380 MB over a 290 MB model; a model with
    # wider or more layers (flan-t5-large: ~2.7x base per token) may want it lower.
    max_batch_tokens: int = Field(
        16384, ge=1, description="Most input tokens x beams in one batch (bounds its memory)"
    )
    max_wait_ms: float = Field(
        5.0, ge=0, description="The most a batch waits for more prompts while callers are "
        "still arriving (it runs once none arrived for 1 ms and none is being prepared)"
    )
    batch_max_queue: int = Field(
        256, ge=1, description="Prompts waiting for a batch; more get 429 overloaded"
    )

    # LLM server (BRIEFING_ENGINE=llm): an OpenAI-compatible chat-completions API
    llm_base_url: str | None = Field(
        None, description="The server's API base, e.g. http://127.0.0.1:11434/v1 (Ollama), "
        "http://127.0.0.1:8080/v1 (llama-server), http://127.0.0.1:8000/v1 (vLLM)"
    )
    llm_model: str | None = Field(
        None, description="The model the server is asked for (its name there, e.g. "
        "llama3.2:3b)"
    )
    llm_api_key: SecretStr | None = Field(
        None, description="Bearer key for the server, when it wants one (a secret; never logged)"
    )
    llm_api_key_file: Path | None = Field(
        None, description="A file holding BRIEFING_LLM_API_KEY"
    )
    llm_timeout_s: float = Field(
        60.0, gt=0, description="Most seconds one call to the server may take (connecting: at "
        "most 5 of them); retries stay within the request's BRIEFING_REQUEST_TIMEOUT_S"
    )
    llm_concurrency: int = Field(
        4, ge=1, description="Calls to the server in flight at once (its connection pool too)"
    )
    llm_context_tokens: int = Field(
        8192, ge=512, description="The model's context as the server runs it (prompt, article "
        "and answer); the article gets what the prompt and the answer leave"
    )
    llm_fallback: bool = Field(
        True, description="When the server fails, answer with the extractive engine and say "
        "why (fallback_reason); false: 503 engine_unavailable"
    )

    # Storage
    data_dir: Path = Field(Path("var"), description="SQLite database and downloaded models")
    database_url: SecretStr | None = Field(
        None,
        description="sqlite:///path or postgresql://user:pass@host:5432/db (psycopg 3); "
        "default: briefing.sqlite3 in the data dir. A secret: logged without its password",
    )
    database_pool_size: int = Field(
        5, ge=1, description="PostgreSQL connections kept per process (up to twice more in bursts)"
    )
    database_timeout_s: float = Field(
        5.0, gt=0, description="Give up connecting to PostgreSQL (or waiting for a pooled "
        "connection) after this long: 503 storage_error"
    )
    sqlite_timeout_s: float = Field(
        5.0, gt=0, description="Wait this long for a locked SQLite file before giving up"
    )

    retention_days: int = Field(
        30, ge=0, description="Delete article text and cached briefings older than this many "
        "days, and the keys of feed entries no feed has listed for as long (digests and the "
        "delivery ledger stay); 0 keeps everything"
    )
    retention_interval_s: float = Field(
        3600.0, gt=0, description="How often `briefing serve` applies the retention"
    )

    # Shared services for replicas (optional)
    redis_url: SecretStr | None = Field(
        None, description="redis://host:6379/0: shared hot cache, single flight across "
        "replicas and a shared rate limit; unset: each replica alone. A secret"
    )
    redis_prefix: str = Field("briefing:", description="Prefix of every Redis key written")
    redis_cache_ttl_s: int = Field(
        86_400, gt=0, description="Seconds a briefing stays in the Redis hot cache"
    )
    redis_timeout_s: float = Field(
        0.5, gt=0, description="Redis connect/read timeout; after a failure Redis is skipped "
        "for 2 s and the database serves"
    )
    flight_lease_s: float = Field(
        30.0, gt=0, description="Cross-replica single-flight lock expiry (renewed while "
        "generating): a crashed replica blocks the same article at most this long"
    )
    rate_limit: str | None = Field(
        None, description="Requests per API key (or address when open) to /v1/*, e.g. "
        "60/minute; over it: 429 rate_limited with Retry-After. Shared via Redis"
    )

    # Limits
    max_body_bytes: int = Field(
        1_000_000, gt=0, description="Largest accepted request body (JSON or text)"
    )
    max_html_body_bytes: int = Field(
        5_000_000, gt=0, description="Largest accepted text/html body (a page's markup is "
        "mostly not its article)"
    )
    max_input_chars: int = Field(
        200_000, gt=0, description="Characters of cleaned text summarized; the rest is dropped"
    )
    reduce_max_depth: int = Field(4, gt=0, description="Most rounds of hierarchical reduction")
    max_model_passes: int = Field(
        16, ge=2,
        description="Most model passes (prompts run) per request, the briefings included; "
        "past it the extractive ranker picks what the model reads",
    )
    one_pass_max_tokens: int = Field(
        1_536, ge=0,
        description="Input up to this many tokens is briefed from its most salient sentences "
        "in one window (one pass per briefing); longer input is map-reduced",
    )
    short_max_sentences: int = Field(2, gt=0, description="Sentences in the short briefing")
    short_max_words: int = Field(50, gt=0, description="Words in the short briefing")
    long_max_words: int = Field(200, gt=0, description="Words in the long briefing")
    short_source: Literal["auto", "article", "long"] = Field(
        "auto",
        description="What the short briefing is written from: the long briefing (faster, and "
        "it can only say what the long one says; bench/latency.py) or the article; auto: the "
        "long one for seq2seq, the article for the extractive and llm engines",
    )

    sentence_fast_path: bool = Field(
        True, description="Ask pysbd only about the parts of a text its rules have work on "
        "(same sentences, several times faster); false: pysbd on every piece"
    )

    # Checks
    unsupported: Literal["auto", "flag", "drop", "repair"] = Field(
        "auto", description="Sentences with numbers, dates or names the article does not "
        "support: flag them, drop them, or repair them (llm: ask once more naming them, then "
        "put the article's closest sentence in their place or drop them; seq2seq: the "
        "sentence replaced or dropped); auto: repair for llm, flag for the others"
    )

    # Access and load
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys for /v1/*; unset = open (local use)"
    )
    api_keys_file: Path | None = Field(
        None, description="A file holding BRIEFING_API_KEYS (comma- or line-separated)"
    )
    max_queue: int = Field(
        16, ge=0, description="Briefings waiting for the engine; more get 429 overloaded"
    )
    request_timeout_s: float = Field(
        120.0, gt=0, description="Answer 503 timeout when a briefing takes longer"
    )

    # Prompts
    prompts_dir: Path | None = Field(
        None, description="A directory of prompt templates; default: the ones shipped in the "
        "package (service/prompts/)"
    )

    # Daily digest and Slack delivery
    timezone: str = Field("UTC", description="IANA time zone of the digest's days and the cron")
    daily_cron: str = Field(
        "0 7 * * *", description="When `briefing serve` runs the daily job (crontab); empty: never"
    )
    digest_max_stories: int = Field(10, gt=0, description="Most stories in one digest")
    digest_similarity: float = Field(
        0.20, gt=0, le=1, description="Articles this similar (MinHash Jaccard) are one story"
    )
    digest_overview: bool = Field(False, description="Open the digest with one long overview")
    digest_post_empty: bool = Field(
        False, description="Post a digest for a day without stories (off: the run skips "
        "posting and says so)"
    )
    public_url: str | None = Field(
        None, description="The service's public base URL (http or https), e.g. "
        "https://briefings.example.com: Slack digests link to their page there",
    )
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming webhook for the digest (a secret; never logged)"
    )
    slack_webhook_url_file: Path | None = Field(
        None, description="A file holding BRIEFING_SLACK_WEBHOOK_URL"
    )
    slack_allowed_hosts: str = Field(
        "hooks.slack.com", description="Comma-separated hosts the webhook may point to"
    )
    slack_backoff_s: float = Field(1.0, ge=0, description="First retry delay for Slack 5xx")
    slack_message_interval_s: float = Field(
        1.0, ge=0, description="Pause between the messages of one digest (Slack: ~1/s)"
    )
    delivery_lease_s: float = Field(
        60.0, gt=0, description="A delivery lock not renewed for this long is taken over"
    )
    digests_file: Path | None = Field(
        None, description="A TOML file of [[digest]] tables: several digests, each with its "
        "own schedule, selection and destinations (unset: one digest, `daily`)"
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Signs the JSON of webhook+https:// destinations "
        "(X-Briefing-Signature: sha256=<HMAC-SHA256 of the body>)"
    )
    webhook_secret_file: Path | None = Field(
        None, description="A file holding BRIEFING_WEBHOOK_SECRET"
    )

    # Fetching URLs and following feeds (service/ingest)
    fetch_timeout_s: float = Field(
        20.0, gt=0, description="Connect timeout, and the most one fetch may take in all "
        "(redirects, reading and name resolution included)",
    )
    fetch_max_bytes: int = Field(
        5_000_000, gt=0, description="Largest page or feed read, counted after decompression"
    )
    fetch_allow_hosts: str = Field(
        "", description="Comma-separated `host` (any port) or `host:port` entries fetched even "
        "where they resolve to private or loopback addresses (an intranet CMS)",
    )
    fetch_host_interval_s: float = Field(
        1.0, ge=0, description="Pause between two requests of feed polls to one host, across "
        "all replicas (one request at a time per host always)",
    )
    fetch_user_agent: str = Field(
        "briefing-service/0.1 (+self-hosted article briefings)",
        description="User-Agent of every fetch: name the service, and a contact if public",
    )
    feeds: str = Field("", description="Comma-separated feed URLs (RSS, Atom or JSON Feed)")
    feeds_poll_s: float = Field(
        900.0, ge=0, description="How often `briefing serve` polls each feed (seconds); "
        "0: not at all (poll with `briefing feeds poll` from cron instead)",
    )
    feeds_max_entries: int = Field(
        50, gt=0, description="Most new entries ingested from one feed in one poll"
    )
    feeds_concurrency: int = Field(
        4, ge=1, description="Feeds polled at once (one request at a time per host always)"
    )
    feeds_max_backoff_s: float = Field(
        86_400.0, gt=0, description="Longest wait before retrying a failing feed (seconds)"
    )

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("BRIEFING_MODEL must name a hub id or a local directory")
        return value.strip()

    @field_validator("output_language")
    @classmethod
    def _output_language(cls, value: str) -> str:
        from service.output_language import parse_language

        return parse_language(value, "BRIEFING_OUTPUT_LANGUAGE")

    @field_validator("llm_base_url")
    @classmethod
    def _llm_base_url(cls, value: str | None) -> str | None:
        return _base_url(value, "BRIEFING_LLM_BASE_URL", "http://127.0.0.1:11434/v1",
                         ": put the key in BRIEFING_LLM_API_KEY (or BRIEFING_LLM_API_KEY_FILE)")

    @field_validator("rate_limit")
    @classmethod
    def _valid_rate(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_rate(value.strip())
        return value.strip()

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _allow_entries(cls, value: str) -> str:
        for entry in value.split(","):
            if entry.strip():
                parse_allow_entry(entry)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("BRIEFING_TIMEZONE must be an IANA name such as Europe/Oslo") from exc
        return value.strip()

    @field_validator("public_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        return _base_url(value, "BRIEFING_PUBLIC_URL", "https://briefings.example.com")

    @field_validator("daily_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        value = " ".join(value.split())
        if value:
            try:
                CronTrigger.from_crontab(value, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"BRIEFING_DAILY_CRON is not a crontab line: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _secrets_from_files(self) -> Self:
        """``BRIEFING_X_FILE`` fills ``BRIEFING_X`` from a file; both at once is an error."""
        for name, file_name in SECRET_FILES.items():
            path: Path | None = getattr(self, file_name)
            if path is None:
                continue
            env, env_file = (ENV_PREFIX + n.upper() for n in (name, file_name))
            current: SecretStr | None = getattr(self, name)
            if current is not None and current.get_secret_value().strip():
                raise ValueError(f"set {env} or {env_file}, not both")
            try:
                value = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"{env_file}: cannot read {path}: {exc}") from exc
            if name == "api_keys":
                value = ",".join(value.split())  # one key a line is fine too
            setattr(self, name, SecretStr(value))
        return self

    @model_validator(mode="after")
    def _llm_server_named(self) -> Self:
        if self.engine == "llm":
            missing = [ENV_PREFIX + name.upper() for name in ("llm_base_url", "llm_model")
                       if not (getattr(self, name) or "").strip()]
            if missing:
                raise ValueError(
                    f"BRIEFING_ENGINE=llm needs {' and '.join(missing)}: the server's API base "
                    "(e.g. http://127.0.0.1:11434/v1) and the model's name there"
                )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def slack_allowed_host_list(self) -> list[str]:
        return [h.strip() for h in self.slack_allowed_hosts.split(",") if h.strip()]

    @property
    def feed_url_list(self) -> list[str]:
        """The feeds named in ``BRIEFING_FEEDS``, in order, without repeats."""
        return list(dict.fromkeys(u.strip() for u in self.feeds.split(",") if u.strip()))

    @property
    def fetch_allow_host_list(self) -> list[str]:
        return [h.strip() for h in self.fetch_allow_hosts.split(",") if h.strip()]

    @property
    def model_language_list(self) -> list[str]:
        """The languages BRIEFING_MODEL_LANGUAGES names (ISO 639-1 codes)."""
        return [c.strip() for c in self.model_languages.split(",") if c.strip()]

    @property
    def api_key_list(self) -> list[str]:
        """The configured API keys; empty when the API is open."""
        if self.api_keys is None:
            return []
        return [k.strip() for k in self.api_keys.get_secret_value().split(",") if k.strip()]

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def unknown_variables(environ: Mapping[str, str]) -> dict[str, str | None]:
    """``BRIEFING_*`` names in ``environ`` that are no setting, each with the closest setting
    (or None): a typo such as ``BRIEFING_SLAK_WEBHOOK_URL`` would otherwise pass unnoticed."""
    known = [name.upper() for name in Settings.model_fields]
    found: dict[str, str | None] = {}
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper[len(ENV_PREFIX):] not in known:
            close = difflib.get_close_matches(upper[len(ENV_PREFIX):], known, n=1, cutoff=0.8)
            found[name] = ENV_PREFIX + close[0] if close else None
    return found


@lru_cache(maxsize=1)
def warn_unknown_variables() -> None:
    """Name each unknown ``BRIEFING_*`` variable in a warning (once per process, at start,
    after logging is set up)."""
    for name, close in unknown_variables(os.environ).items():
        hint = f"; did you mean {close}?" if close else ""
        log.warning("%s is not a setting and is ignored%s", name, hint)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
