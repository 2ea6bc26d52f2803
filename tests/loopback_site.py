"""A news site on 127.0.0.1 run by the tests: pages, feeds, redirects, stalls, bombs.

Routes map a path (with its query, else without) to a :class:`Reply` or to a function of the
request handler returning one. Every request is recorded (method, path, headers), so tests
can see what the service asked for (conditional requests, User-Agent, Host).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    stall_s: float = 0.0  # wait this long before answering at all
    trickle_s: float = 0.0  # send the body a byte at a time, this long between bytes


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Route = Reply | Callable[[BaseHTTPRequestHandler], Reply]


class LoopbackSite:
    """A threaded HTTP server on an ephemeral loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._stop = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                site._answer(self)

            def do_HEAD(self) -> None:  # noqa: N802
                site._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, reply: Route) -> str:
        """Serve ``reply`` at ``path``; returns the full URL."""
        self.routes[path] = reply
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(Seen(handler.command, handler.path, dict(handler.headers)))
        route = self.routes.get(handler.path) or self.routes.get(handler.path.split("?")[0])
        reply = Reply(404, b"not here", "text/plain") if route is None else (
            route(handler) if callable(route) else route
        )
        if reply.stall_s and self._stop.wait(reply.stall_s):
            return
        try:
            handler.send_response(reply.status)
            if reply.content_type:
                handler.send_header("Content-Type", reply.content_type)
            if reply.length:
                handler.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command == "HEAD":
                return
            if reply.trickle_s:
                for index in range(len(reply.body)):
                    if self._stop.wait(reply.trickle_s):
                        return
                    handler.wfile.write(reply.body[index:index + 1])
                    handler.wfile.flush()
            else:
                handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a size or time limit): that is the point

    def __enter__(self) -> LoopbackSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


def running_site() -> Iterator[LoopbackSite]:
    with LoopbackSite() as site:
        yield site
