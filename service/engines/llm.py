"""The llm engine: briefings from an OpenAI-compatible chat-completions server.

Ollama, llama.cpp's llama-server, vLLM, LM Studio and ``transformers serve`` all answer
``POST {BRIEFING_LLM_BASE_URL}/chat/completions``. For each prompt the engine renders the
kind's chat prompt (``prompts/llm/``: a system and a user message; ``{language}`` is the
request's output language), sends it, and cleans the answer
(:mod:`service.engines.llm_output`: no thinking, preambles or markdown). A request with
``revise`` (an earlier answer) is the same conversation with that answer and the prompt's
``repair`` message (naming the facts the article does not state) after it. Everything
else (condensing long input, length rules, fact checks, the cache) is the request path's, as
for every engine.

The client is httpx, as the fetcher's (service/ingest/fetch.py): no extra dependency (no
OpenAI SDK, whose retries and timeouts would be a second policy beside the service's), the
same timeouts (a connect timeout and a total one), the same Retry-After reading, errors
mapped to the service's own in one place, and no proxy or .netrc read from the environment.
Its connection pool holds ``BRIEFING_LLM_CONCURRENCY`` connections, and a semaphore of the
same size admits calls: a call waits for a slot only as long as its request's deadline
allows (the pool alone would wait its own timeout, then fail), and the server never sees
more calls at once than it was sized for. The ``/readyz`` probe has a client of its own, so
a busy pool never reads as a server that is down.

Each call (:meth:`LlmEngine.generate`):
  1. waits for a slot, within the request's deadline less a reserve for the extractive
     fallback (``FALLBACK_RESERVE_S``)
  2. asks with ``BRIEFING_LLM_TIMEOUT_S`` (never past that deadline); thinking is turned off
     where the server allows it: ``chat_template_kwargs: {enable_thinking: false}``
     (vLLM, llama-server, SGLang, transformers serve: Qwen3-style templates) and
     ``reasoning_effort: "none"`` (Ollama). A server that refuses one of these fields (400
     naming it) is asked again at once without it, and never sent it again
  3. retries what retrying can mend — a connection refused or dropped, 429, 500, 502, 503,
     504 — at most ``MAX_ATTEMPTS`` times in all, waiting what the server's Retry-After
     asks, else an exponential backoff with jitter, and never past the deadline. A read
     timeout is not retried (a model too slow for the budget is as slow the second time),
     nor a 4xx (a wrong key, URL or model), nor an answer with nothing left once cleaned.
     For ``DOWN_FOR_S`` after a call found the server unreachable, calls try once: a
     briefing falls back at once while the server is down
  4. then raises :class:`~service.errors.EngineUnavailable` naming the server (its URL is
     shown as configured: credentials and queries are refused in it by the settings), which
     the request path turns into the extractive engine's answer with ``fallback_reason``,
     or into 503 ``engine_unavailable`` with ``BRIEFING_LLM_FALLBACK=false``.

Tokens are estimated, not counted: the server's tokenizer is unknown here. The estimate
(:func:`estimate_tokens`) counts a word of Latin letters as one token per five letters begun,
a word in another alphabet one per three, and each CJK, kana, Hangul or Thai character, each
digit and each punctuation mark as one. The seed article (tests/seed_article.txt, English
news) comes to 1.57 tokens per word; the tokenizers of Llama 3, Qwen or GPT-4 are usually
quoted at about 1.3 for English prose (not measured here), so the input budget
(``BRIEFING_LLM_CONTEXT_TOKENS`` less the prompt and the answer) errs on the safe side. The
server's own counts (``usage``) feed the metrics.
"""

from __future__ import annotations

import contextvars
import logging
import math
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import regex

import service
from service.config import Settings
from service.engines.base import GenerationRequest
from service.engines.llm_output import CLEANING_VERSION, clean
from service.errors import EngineUnavailable, ModelUnavailable
from service.prompts import Prompt, PromptSet
from service.retry_after import retry_after

if TYPE_CHECKING:
    from service.cancellation import Cancellation
    from service.metrics import Metrics

__all__ = ["LlmEngine", "ServerStatus", "estimate_tokens"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# After a call found the server unreachable, the next calls for this long try once, without
# retries: while it is down, each briefing would otherwise wait out the backoff to fall back.
DOWN_FOR_S = 5.0
BACKOFF_S = 0.5  # first wait; doubled each retry, with up to a quarter more of jitter
CONNECT_TIMEOUT_S = 5.0
# Kept back from the request's deadline for the extractive fallback to answer in.
FALLBACK_RESERVE_S = 2.0
MIN_CALL_S = 0.05  # less time than this left: no call is started
# The input budget keeps this many tokens for the chat template's own tokens and a title.
PROMPT_SLACK = 64
MIN_WINDOW = 256  # fewer tokens left for the article than this is a configuration error
PROBE_TIMEOUT_S = 2.0
PROBE_TTL_S = 5.0  # /readyz asks the server at most this often
# What turns thinking off, per server family (see the module docstring).
THINKING_OFF: dict[str, Any] = {
    "chat_template_kwargs": {"enable_thinking": False},
    "reasoning_effort": "none",
}
# How servers word a refused unknown field (pydantic's extra_forbidden, OpenAI's own).
_UNKNOWN_FIELD = ("unrecognized request argument", "unknown field", "unknown parameter",
                  "extra inputs are not permitted", "extra_forbidden", "unexpected keyword")
_RETRY_STATUSES = {429: "rate_limited", 500: "server_error", 502: "server_error",
                   503: "server_error", 504: "server_error"}

_TOKEN_PIECES = regex.compile(
    r"(?P<latin>\p{Latin}[\p{Latin}\p{M}]*)"
    r"|(?P<char>[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}"
    r"\p{Myanmar}]|\p{N}|[^\s\p{L}\p{M}\p{N}])"
    r"|(?P<other>[\p{L}\p{M}]+)"
)
# Letters per token begun, by kind of word (see the module docstring).
_LETTERS_PER_TOKEN = {"latin": 5, "other": 3}


def estimate_tokens(text: str) -> int:
    """About how many tokens an LLM's tokenizer makes of ``text`` (see the module
    docstring); never more than its number of characters."""
    count = 0
    for match in _TOKEN_PIECES.finditer(text):
        kind = match.lastgroup
        if kind == "char":
            count += 1
        else:
            count += -(-len(match.group()) // _LETTERS_PER_TOKEN[kind or "other"])
    return count


@dataclass(frozen=True)
class ServerStatus:
    """What the ``/readyz`` probe found (``GET {base}/models``)."""

    server: str
    reachable: bool
    error: str | None = None
    model_listed: bool | None = None  # None: the list was not readable
    checked_at: float = 0.0  # time.monotonic()

    def as_dict(self) -> dict[str, Any]:
        return {"server": self.server, "reachable": self.reachable, "error": self.error,
                "model_listed": self.model_listed}


class _Failed(Exception):
    """One call that failed; ``retry``: whether another call may mend it."""

    def __init__(self, outcome: str, detail: str, *, retry: bool = False,
                 wait_s: float | None = None) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.retry = retry
        self.wait_s = wait_s  # the server's Retry-After


class LlmEngine:
    """Briefings from an OpenAI-compatible server; :class:`~service.engines.base.Engine`."""

    name = "llm"

    def __init__(
        self, settings: Settings, prompts: PromptSet, *, metrics: Metrics | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not settings.llm_base_url or not settings.llm_model:
            raise ModelUnavailable("BRIEFING_ENGINE=llm needs BRIEFING_LLM_BASE_URL and "
                                   "BRIEFING_LLM_MODEL")
        self.base_url = settings.llm_base_url.rstrip("/")
        self.server = self.base_url  # credentials and queries are refused there: shown as is
        self.model_id = settings.llm_model.strip()
        self.served_model = self.model_id  # what the server says it ran, once it answered
        self.timeout_s = settings.llm_timeout_s
        self.budget_s = settings.request_timeout_s  # for callers without a deadline
        self.reserve_s = (min(FALLBACK_RESERVE_S, settings.request_timeout_s / 10)
                          if settings.llm_fallback else 0.0)
        self.context_tokens = settings.llm_context_tokens
        self.metrics = metrics
        # The cache key: server, context (it decides the condensing) and the cleaning rules;
        # the model is model_id, and the prompts are the prompt version.
        self.model_revision = (f"{self.server}|context={self.context_tokens}"
                               f"|cleaning={CLEANING_VERSION}")
        self.max_input_tokens = self._window(prompts)
        self.concurrency = settings.llm_concurrency
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm")
        self._extras = dict(THINKING_OFF)  # the fields this server has not refused
        self._extras_lock = threading.Lock()
        self._down_at: float | None = None  # when a call last ended unreachable
        self._status: ServerStatus | None = None
        self._probe_lock = threading.Lock()
        headers = {"User-Agent": f"briefing-service/{service.__version__}"}
        if settings.llm_api_key is not None and settings.llm_api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
        self._client = httpx.Client(
            base_url=self.base_url + "/", headers=headers, transport=transport,
            trust_env=False, follow_redirects=False,
            timeout=httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s)),
            limits=httpx.Limits(max_connections=self.concurrency,
                                max_keepalive_connections=self.concurrency),
        )
        self._probe_client = httpx.Client(
            base_url=self.base_url + "/", headers=headers, transport=transport,
            trust_env=False, follow_redirects=False, timeout=httpx.Timeout(PROBE_TIMEOUT_S),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    # -- the Engine protocol ------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def split_by_tokens(self, text: str, max_tokens: int) -> list[str]:
        """``text`` in consecutive pieces of at most ``max_tokens`` (estimated), cut between
        words; a run without spaces longer than that (CJK) is cut between characters."""
        max_tokens = max(1, max_tokens)
        pieces: list[str] = []
        words: list[str] = []
        used = 0
        for word in text.split():
            n = estimate_tokens(word)
            if words and used + n > max_tokens:
                pieces.append(" ".join(words))
                words, used = [], 0
            if n > max_tokens:  # the estimate never exceeds the characters: these fit
                pieces.extend(word[i:i + max_tokens] for i in range(0, len(word), max_tokens))
                continue
            words.append(word)
            used += n
        if words:
            pieces.append(" ".join(words))
        return pieces

    def generate(
        self, requests: Sequence[GenerationRequest], cancellation: Cancellation | None = None
    ) -> list[str]:
        """The cleaned answers, in order; calls for several prompts run at once (within the
        slots). Raises EngineUnavailable when one fails (the others' queued calls are
        dropped), or the cancellation's error when the request ended."""
        deadline = self._deadline(cancellation)
        if len(requests) == 1:
            return [self._complete(requests[0], deadline, cancellation)]
        futures = [
            self._pool.submit(contextvars.copy_context().run, self._complete, request,
                              deadline, cancellation)
            for request in requests
        ]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        self._probe_client.close()

    # -- the /readyz probe --------------------------------------------------------------

    def probe(self) -> ServerStatus:
        """Whether the server answers ``GET /models`` (within ``PROBE_TIMEOUT_S``; asked at
        most every ``PROBE_TTL_S``), and whether it lists the model."""
        with self._probe_lock:
            cached = self._status
            if cached is not None and time.monotonic() - cached.checked_at < PROBE_TTL_S:
                return cached
            status = self._probe()
            self._status = status
        if self.metrics is not None:
            self.metrics.llm_up.set(1 if status.reachable else 0)
        return status

    def _probe(self) -> ServerStatus:
        now = time.monotonic()
        try:
            response = self._probe_client.get("models")
        except httpx.HTTPError as exc:
            return ServerStatus(self.server, False, _transport_detail(exc), checked_at=now)
        if not response.is_success:
            return ServerStatus(
                self.server, False,
                f"GET /models answered HTTP {response.status_code}{_error_text(response)}",
                checked_at=now,
            )
        listed: bool | None = None
        try:
            ids = [str(m.get("id")) for m in response.json().get("data", [])
                   if isinstance(m, dict)]
            listed = self.model_id in ids or any(
                i.split("/")[-1] == self.model_id or i == f"{self.model_id}:latest" for i in ids
            )
        except (ValueError, AttributeError):
            pass
        return ServerStatus(self.server, True, None, listed, checked_at=now)

    # -- one prompt ---------------------------------------------------------------------

    def _deadline(self, cancellation: Cancellation | None) -> float:
        if cancellation is not None and cancellation.deadline is not None:
            return cancellation.deadline - self.reserve_s
        return time.monotonic() + self.budget_s

    def _complete(
        self, request: GenerationRequest, deadline: float, cancellation: Cancellation | None
    ) -> str:
        """One prompt's cleaned answer, with the retries its deadline allows."""
        prompt = request.prompt
        system, user = prompt.render_chat(request.text, language=request.language)
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": user})
        if request.revise is not None:  # the same conversation, asked once more
            earlier, missing = request.revise
            messages.append({"role": "assistant", "content": earlier})
            messages.append({"role": "user", "content": prompt.render_repair(
                missing, language=request.language)})
        started = time.monotonic()
        down_at = self._down_at
        attempts = 1 if down_at is not None and started - down_at < DOWN_FOR_S else MAX_ATTEMPTS
        attempt = 0
        while True:
            attempt += 1
            if cancellation is not None:
                cancellation.check()
            left = deadline - time.monotonic()
            if left < MIN_CALL_S:
                raise self._unavailable("no_time", "no time was left for a call within "
                                        "BRIEFING_REQUEST_TIMEOUT_S", attempt - 1, started)
            if not self._slots.acquire(timeout=left):
                raise self._unavailable(
                    "busy", f"all {self.concurrency} calls (BRIEFING_LLM_CONCURRENCY) stayed "
                    "busy until the request's deadline", attempt - 1, started,
                )
            try:
                text = self._call(messages, prompt, deadline)
                self._down_at = None
                return text
            except _Failed as failed:
                error = failed
            finally:
                self._slots.release()
            if error.outcome == "retry_without_extras":
                attempt -= 1  # the server refused a field it does not know: not its failure
                continue
            wait = error.wait_s if error.wait_s is not None else _backoff(attempt)
            if not error.retry or attempt >= attempts:
                if error.outcome == "unreachable":
                    self._down_at = time.monotonic()
                raise self._unavailable(error.outcome, error.detail, attempt, started,
                                        wait_s=error.wait_s)
            if time.monotonic() + wait + MIN_CALL_S > deadline:
                raise self._unavailable(
                    error.outcome, f"{error.detail}; a retry in {wait:.3g}s would pass the "
                    "request's deadline", attempt, started, wait_s=error.wait_s,
                )
            log.warning("LLM server %s: %s; retrying in %.2fs (attempt %d of %d)",
                        self.server, error.detail, wait, attempt, MAX_ATTEMPTS)
            if self._sleep(wait, cancellation) and cancellation is not None:
                cancellation.check()

    def _call(self, messages: list[dict[str, str]], prompt: Prompt, deadline: float) -> str:
        """One POST /chat/completions; the cleaned answer, or _Failed."""
        with self._extras_lock:
            extras = dict(self._extras)
        body: dict[str, Any] = {
            "model": self.model_id, "messages": messages, "stream": False,
            "max_tokens": prompt.generation.max_new_tokens, **extras,
        }
        if prompt.temperature is not None:
            body["temperature"] = prompt.temperature
        budget = max(MIN_CALL_S, min(self.timeout_s, deadline - time.monotonic()))
        timeout = httpx.Timeout(budget, connect=min(CONNECT_TIMEOUT_S, budget))
        started = time.perf_counter()
        outcome = "ok"
        try:
            response = self._client.post("chat/completions", json=body, timeout=timeout)
            text = self._answer(response, extras, budget)
            return text
        except _Failed as failed:
            outcome = failed.outcome
            raise
        except httpx.TimeoutException as exc:
            outcome = "timeout"
            connecting = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise _Failed("timeout", f"no {'connection' if connecting else 'answer'} within "
                          f"{budget:.3g}s (BRIEFING_LLM_TIMEOUT_S)", retry=connecting) from exc
        except httpx.HTTPError as exc:
            outcome = "unreachable"
            retry = isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError
                               | httpx.ReadError | httpx.WriteError)
            raise _Failed("unreachable", _transport_detail(exc), retry=retry) from exc
        finally:
            if self.metrics is not None:  # a refused field is the server refusing the call
                label = "refused" if outcome == "retry_without_extras" else outcome
                self.metrics.llm_calls.labels(label).inc()
                self.metrics.llm_call_seconds.observe(time.perf_counter() - started)

    def _answer(self, response: httpx.Response, extras: dict[str, Any], budget: float) -> str:
        status = response.status_code
        if status == 200:
            return self._content(response)
        detail = f"HTTP {status}{_error_text(response)}"
        if status == 400 and extras and self._drop_refused(response, extras):
            raise _Failed("retry_without_extras", detail)
        if status in _RETRY_STATUSES:
            raise _Failed(_RETRY_STATUSES[status], detail, retry=True,
                          wait_s=retry_after(response.headers.get("retry-after")))
        if status in (401, 403):
            detail += " (is BRIEFING_LLM_API_KEY the server's key?)"
        elif status == 404:
            detail += (f" (is BRIEFING_LLM_BASE_URL the API base, ending in /v1, and "
                       f"{self.model_id!r} a model the server has?)")
        raise _Failed("refused", detail)

    def _content(self, response: httpx.Response) -> str:
        """The cleaned text of a 200 answer; the usage counted and the served model noted.
        Reasoning fields (``reasoning_content``, ``reasoning``) are never read."""
        try:
            answer = response.json()
            choice = answer["choices"][0]
            content = choice["message"].get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise _Failed("bad_answer", "the answer is not a chat completion "
                          f"({type(exc).__name__}: {str(exc)[:80]})") from exc
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        served = answer.get("model")
        if isinstance(served, str) and served.strip():
            self.served_model = served.strip()
        usage = answer.get("usage")
        if self.metrics is not None and isinstance(usage, dict):
            for direction in ("prompt", "completion"):
                n = usage.get(f"{direction}_tokens")
                if isinstance(n, int) and n > 0:
                    self.metrics.llm_tokens.labels(direction).inc(n)
        text = clean(content) if isinstance(content, str) else ""
        if not text:
            finish = choice.get("finish_reason")
            why = (" (it used its max_tokens first: thinking?)" if finish == "length"
                   else "")
            raise _Failed("bad_answer", f"the answer held no briefing once cleaned{why}")
        return text

    def _drop_refused(self, response: httpx.Response, extras: dict[str, Any]) -> bool:
        """A 400 that names fields sent only to turn thinking off: stop sending them (all of
        them when it names none but refuses unknown fields). True when one was dropped."""
        text = response.text.lower()
        named = [field for field in extras if field in text]
        if not named and any(w in text for w in _UNKNOWN_FIELD):
            named = list(extras)
        if not named:
            return False
        with self._extras_lock:
            for field in named:
                self._extras.pop(field, None)
        log.warning("LLM server %s refused %s: not sent again (thinking stays as the server "
                    "sets it)", self.server, ", ".join(named))
        return True

    def _sleep(self, seconds: float, cancellation: Cancellation | None) -> bool:
        """Wait ``seconds``; True when the request ended meanwhile."""
        event = threading.Event()
        remove = cancellation.on_cancel(event.set) if cancellation is not None else None
        try:
            return event.wait(seconds)
        finally:
            if remove is not None:
                remove()

    def _unavailable(
        self, reason: str, detail: str, attempts: int, started: float, *,
        wait_s: float | None = None,
    ) -> EngineUnavailable:
        took = time.monotonic() - started
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''} in {took:.1f}s"
        return EngineUnavailable(
            f"the LLM server {self.server} (model {self.model_id!r}) gave no briefing: "
            f"{detail} ({tries})",
            reason=reason, retry_after_s=max(1, math.ceil(wait_s)) if wait_s else 5,
        )

    # -- set-up -------------------------------------------------------------------------

    def _window(self, prompts: PromptSet) -> int:
        """The article's share of the context: what the largest prompt and its answer
        leave (estimated), less ``PROMPT_SLACK``."""
        overhead = 0
        for prompt in prompts.prompts.values():
            system, user = prompt.render_chat("")
            overhead = max(overhead, estimate_tokens(system) + estimate_tokens(user)
                           + prompt.generation.max_new_tokens)
        window = self.context_tokens - overhead - PROMPT_SLACK
        if window < MIN_WINDOW:
            raise ModelUnavailable(
                f"BRIEFING_LLM_CONTEXT_TOKENS={self.context_tokens} leaves {window} tokens "
                f"for the article once the prompts and their answers ({overhead}) are taken "
                f"off; give the model a context of at least {overhead + PROMPT_SLACK + 1024}"
            )
        return window


def _backoff(attempt: int) -> float:
    base = BACKOFF_S * 2 ** (attempt - 1)
    return base * (1 + random.random() / 4)


def _transport_detail(exc: httpx.HTTPError) -> str:
    """A transport failure in words (never a header: the key stays out of it)."""
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({str(exc) or 'refused'})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"the connection dropped ({str(exc) or type(exc).__name__})"
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def _error_text(response: httpx.Response) -> str:
    """The server's error message, shortened (": model not found"), or ""."""
    try:
        data = response.json()
    except ValueError:
        data = None
    message: object = None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        message = error.get("message") if isinstance(error, dict) else error
    if message is None:
        message = response.text
    text = " ".join(str(message).split())[:200]
    return f": {text}" if text else ""
