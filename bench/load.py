"""Load on a real server on loopback with the tiny model: throughput, latency, status counts.

Run by hand: `.venv/bin/python bench/load.py [--requests 64] [--queue 4]`. Starts
`briefing serve` on a free loopback port with BRIEFING_MAX_QUEUE=<queue>, then for
concurrency 1, 8 and 32 sends a bounded number of distinct articles (no cache hits) and
prints requests/s, p50/p99 latency and the count of each status. Under overload the service
must answer 429 at once, never 5xx.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_briefing import story  # noqa: E402
from tests.tiny_model import build_tiny_t5  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(model_dir: Path, data_dir: Path, queue: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BRIEFING_ENGINE": "seq2seq", "BRIEFING_MODEL": str(model_dir),
           "BRIEFING_DATA_DIR": str(data_dir), "BRIEFING_MAX_QUEUE": str(queue)}
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def run(base: str, concurrency: int, requests: int, offset: int) -> dict[str, object]:
    # One pooled client for all callers: a client per request would spend the machine's CPU
    # on connection and TLS-context set-up in this process, not load the server.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base, timeout=120, limits=limits) as client:

        def one(n: int) -> tuple[int, float]:
            started = time.perf_counter()
            r = client.post("/v1/briefings", json={"text": story(n)})
            return r.status_code, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, range(offset, offset + requests)))
        elapsed = time.perf_counter() - started
    latencies = sorted(t for _, t in results)
    ok = sorted(t for s, t in results if s == 200)
    refused = sorted(t for s, t in results if s == 429)
    return {
        "concurrency": concurrency,
        "ok/s": len(ok) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "p50 ok": statistics.median(ok) if ok else float("nan"),
        "p50 429": statistics.median(refused) if refused else float("nan"),
        "statuses": dict(sorted(Counter(s for s, _ in results).items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--queue", type=int, default=4)
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_t5(Path(tmp) / "tiny")
        process, base = start(model_dir, Path(tmp) / "data", args.queue)
        try:
            print(f"tiny model, BRIEFING_MAX_QUEUE={args.queue}, {args.requests} requests each")
            print(f"{'conc':>5}{'ok/s':>8}{'p50 s':>8}{'p99 s':>8}{'p50 ok s':>10}"
                  f"{'p50 429 s':>11}  statuses")
            for i, concurrency in enumerate(levels):
                row = run(base, concurrency, args.requests, offset=i * 10_000)
                print(f"{row['concurrency']:>5}{row['ok/s']:>8.2f}{row['p50']:>8.3f}"
                      f"{row['p99']:>8.3f}{row['p50 ok']:>10.3f}{row['p50 429']:>11.3f}  "
                      f"{row['statuses']}")
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
