"""Test support for the daily digest: small news texts written for these tests, and a real
HTTP server on loopback standing in for Slack's incoming webhook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "T0000AAAA/B0000BBBB/s3cr3tDIGESTtoken42"

# One story told by two outlets: the second reorders the paragraphs and rewords some lines,
# as a second outlet working from the same wire copy would.
FERRY_A = """Storm Ingrid forced Nordfjord Ferries to suspend all crossings between Havnes and \
Skarvik on Tuesday, leaving hundreds of commuters stranded on both sides of the fjord.

Waves of up to six metres were measured at the harbour entrance in the early morning, the \
coastal administration said.

"We will not sail until the wind drops below gale force," operations manager Liv Aasen told \
reporters at the Havnes terminal.

The company expects to resume the first departures on Wednesday afternoon if the forecast \
holds, and passengers with season tickets can claim a refund for the missed trips.

The municipality opened the sports hall in Skarvik for travellers who could not get home."""

FERRY_B = """Hundreds of commuters were stranded on Tuesday after Storm Ingrid forced Nordfjord \
Ferries to suspend all crossings between Havnes and Skarvik.

"We will not sail until the wind drops below gale force," operations manager Liv Aasen said \
at the Havnes terminal.

According to the coastal administration, waves of up to six metres were measured at the \
harbour entrance early in the morning.

The municipality has opened the sports hall in Skarvik for travellers who could not get home, \
while the company expects to resume the first departures on Wednesday afternoon if the \
forecast holds."""

LIBRARY = """The city council approved a budget of 42 million kroner for the new central \
library on Monday, ending a debate that has lasted three years.

Construction on the old bus depot site is due to start next spring, and the building should \
open in 2029 with a reading room, a makerspace and a concert hall for two hundred people.

Opposition members argued that the money would be better spent on school buildings, but the \
proposal passed with 31 votes to 18."""

BATTERY = """Voltara will open a battery cell factory outside Moss that is expected to employ \
1,200 people when it reaches full production in 2028.

The company said the plant would use hydropower and recycle the solvent used in electrode \
coating, cutting its emissions by almost half compared with similar factories in Asia.

Local business leaders welcomed the decision, while unions asked for guarantees that the jobs \
would follow national wage agreements."""

MATCH = """Havnes IL beat Skarvik BK 3-1 in the cup semi-final on Sunday, with two goals from \
the 19-year-old winger Jonas Berg.

Skarvik had taken the lead after ten minutes through a penalty, but the home side turned the \
game around before the break.

Havnes will meet Tromsdal in the final at the national stadium on the first Saturday of \
December."""


@dataclass
class SlackRecorder:
    """What the fake Slack answered, and which payloads it accepted (HTTP 200 ``ok``)."""

    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0  # before answering each request (widens race windows)
    hang_on: int | None = None  # never answer the request with this 1-based number
    lock: threading.Lock = field(default_factory=threading.Lock)
    hung: threading.Event = field(default_factory=threading.Event)

    def headers_of_posted(self) -> list[str]:
        return [p["blocks"][0]["text"]["text"] for p in self.posted]


@contextmanager
def fake_slack() -> Iterator[tuple[str, SlackRecorder]]:
    """A webhook URL on loopback and its recorder; unscripted requests answer 200 ``ok``."""
    rec = SlackRecorder()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with rec.lock:
                rec.requests.append(body)
                number = len(rec.requests)
                status, headers, text = rec.script.pop(0) if rec.script else (200, {}, "ok")
            if rec.hang_on == number:
                rec.hung.set()
                release.wait(30)  # the client is killed meanwhile; this answer goes nowhere
                return
            if rec.delay_s:
                time.sleep(rec.delay_s)
            if status == 200 and text == "ok":
                with rec.lock:
                    rec.posted.append(body)
            data = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/services/{SECRET}", rec
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def run_digest(client: Any, path: str, **params: Any) -> dict[str, Any]:
    """POST a digest run (answered 202 at once) and follow it with GET until it finished;
    GET's last answer: the digest, the ledger's delivery state and the run."""
    answer = client.post(path, params=params)
    assert answer.status_code == 202, answer.text
    assert answer.json()["run"]["status"] in ("queued", "running", "done", "failed")
    deadline = time.monotonic() + 120  # a hang guard, not a speed check
    while True:
        state: dict[str, Any] = client.get(path).json()
        if state["run"]["status"] in ("done", "failed"):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.02)
