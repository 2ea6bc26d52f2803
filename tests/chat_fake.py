"""A fake OpenAI-compatible server on 127.0.0.1, for what real servers do badly.

Slow answers, 429 with Retry-After, 500s, connections dropped before an answer, thinking
blocks, preambles and markdown: each POST to ``/v1/chat/completions`` takes the next
:class:`Answer` of the script (then the default one). Every request is recorded (path,
headers, JSON body, when it arrived), so tests can see what the engine sent and how often.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One reply: a completion with ``content`` (status 200), or another ``status`` with
    ``body``; ``stall_s`` before it; ``drop``: close the connection without a reply."""

    content: str | None = "The council voted on Tuesday to turn the old tram depot into a market."
    status: int = 200
    body: Any = None  # for status != 200: JSON (dict) or text
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0
    drop: bool = False
    model: str | None = "fake-model:7b"
    reasoning: str | None = None  # a reasoning_content field beside the content
    usage: dict[str, int] | None = field(
        default_factory=lambda: {"prompt_tokens": 120, "completion_tokens": 30,
                                 "total_tokens": 150}
    )
    finish_reason: str = "stop"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float  # time.monotonic()


Script = Answer | Callable[[dict[str, Any]], Answer]


class FakeChatServer:
    """A threaded HTTP server on an ephemeral loopback port; use :func:`fake_chat_server`."""

    def __init__(self) -> None:
        self.script: list[Script] = []
        self.default: Script = Answer()
        self.models_status = 200
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                fake._record(self, None)
                if self.path.rstrip("/") == "/v1/models" and fake.models_status == 200:
                    self._json(200, {"object": "list", "data": [
                        {"id": "fake-model:7b", "object": "model", "owned_by": "tests"}]})
                else:
                    self._json(fake.models_status if self.path.startswith("/v1/models")
                               else 404, {"error": {"message": "no"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                fake._record(self, body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"{self.path} not found"}})
                    return
                fake._answer(self, body or {})

            def _json(self, status: int, data: Any, headers: dict[str, str] | None = None,
                      ) -> None:
                payload = (json.dumps(data) if not isinstance(data, str) else data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def then(self, *answers: Script) -> FakeChatServer:
        """Queue ``answers`` for the next POSTs, in order."""
        with self._lock:
            self.script.extend(answers)
        return self

    def posts(self) -> list[Seen]:
        return [r for r in self.requests if r.body is not None]

    def _record(self, handler: BaseHTTPRequestHandler, body: dict[str, Any] | None) -> None:
        with self._lock:
            self.requests.append(
                Seen(handler.path, dict(handler.headers), body, time.monotonic())
            )

    def _answer(self, handler: Any, body: dict[str, Any]) -> None:
        with self._lock:
            step = self.script.pop(0) if self.script else self.default
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            answer = step(body) if callable(step) else step
            if answer.stall_s and self._stop.wait(answer.stall_s):
                return
            if answer.drop:
                handler.close_connection = True
                handler.connection.shutdown(2)  # no status line: the client sees it drop
                return
            if answer.status != 200:
                handler._json(answer.status, answer.body if answer.body is not None
                              else {"error": {"message": f"HTTP {answer.status}"}},
                              answer.headers)
                return
            message: dict[str, Any] = {"role": "assistant", "content": answer.content}
            if answer.reasoning is not None:
                message["reasoning_content"] = answer.reasoning
            data: dict[str, Any] = {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                "choices": [{"index": 0, "message": message,
                             "finish_reason": answer.finish_reason}],
            }
            if answer.model is not None:
                data["model"] = answer.model
            if answer.usage is not None:
                data["usage"] = answer.usage
            handler._json(200, data, answer.headers)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (its timeout): that is the point
        finally:
            with self._lock:
                self.in_flight -= 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_chat_server() -> Iterator[FakeChatServer]:
    server = FakeChatServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
