"""Load on real servers on loopback with the tiny model: throughput, latency, status counts.

Run by hand: `.venv/bin/python bench/load.py [--requests 64] [--queue 4]`. Starts
`briefing serve` on a free loopback port with BRIEFING_MAX_QUEUE=<queue>, then for
concurrency 1, 8 and 32 sends a bounded number of distinct articles (no cache hits) and
prints requests/s, p50/p99 latency and the count of each status. Under overload the service
must answer 429 at once, never 5xx.

Replicas (issue 14): `--replicas 2 --database-url postgresql://… [--redis-url redis://…]`
starts that many servers on the one database (each with a data dir of its own) and sends
request n to replica n mod N, as a round-robin load balancer would. `--hits 200` then
measures cache hits: each of 20 articles is briefed once, and the p50/p99 of 200 repeated
POSTs (one at a time) is printed: run it with and without `--redis-url` to compare
PostgreSQL alone with Redis in front of it.
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


def start(
    model_dir: Path, data_dir: Path, queue: int, extra: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BRIEFING_ENGINE": "seq2seq", "BRIEFING_MODEL": str(model_dir),
           "BRIEFING_DATA_DIR": str(data_dir), "BRIEFING_MAX_QUEUE": str(queue),
           "BRIEFING_DAILY_CRON": "", "BRIEFING_MODEL_LOAD_TIMEOUT_S": "900", **(extra or {})}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port),
             "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(1500):  # up to 5 minutes: a first start converts the model
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


def run(bases: list[str], concurrency: int, requests: int, offset: int) -> dict[str, object]:
    # One pooled client per server for all callers: a client per request would spend the
    # machine's CPU on connection set-up in this process, not load the servers.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.Client(base_url=base, timeout=120, limits=limits) for base in bases]
    try:

        def one(n: int) -> tuple[int, float]:
            started = time.perf_counter()
            r = clients[n % len(clients)].post("/v1/briefings", json={"text": story(n)})
            return r.status_code, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(one, range(offset, offset + requests)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            client.close()
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


def cache_hits(bases: list[str], hits: int) -> dict[str, float]:
    """p50/p99 of repeated POSTs (all cache hits), one at a time, round-robin."""
    clients = [httpx.Client(base_url=base, timeout=120) for base in bases]
    try:
        articles = [story(50_000 + n) for n in range(20)]
        for n, text in enumerate(articles):  # each briefed once: the misses
            clients[n % len(clients)].post("/v1/briefings", json={"text": text})
        times = []
        for n in range(hits):
            client = clients[n % len(clients)]
            started = time.perf_counter()
            answer = client.post("/v1/briefings", json={"text": articles[n % len(articles)]})
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200 and answer.json()["cached"], answer.text
    finally:
        for client in clients:
            client.close()
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--queue", type=int, default=4)
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels")
    parser.add_argument("--replicas", type=int, default=1, help="servers on one database")
    parser.add_argument("--database-url", help="BRIEFING_DATABASE_URL (default: SQLite)")
    parser.add_argument("--redis-url", help="BRIEFING_REDIS_URL (default: none)")
    parser.add_argument("--threads", type=int, default=0, help="BRIEFING_TORCH_THREADS each")
    parser.add_argument("--hits", type=int, default=0, help="then measure this many hits")
    args = parser.parse_args()
    if args.replicas > 1 and not args.database_url:
        sys.exit("--replicas > 1 needs --database-url (the replicas share a database)")
    levels = [int(c) for c in args.concurrency.split(",") if c]
    extra = {"BRIEFING_TORCH_THREADS": str(args.threads)}
    if args.database_url:
        extra["BRIEFING_DATABASE_URL"] = args.database_url
    if args.redis_url:
        extra.update(BRIEFING_REDIS_URL=args.redis_url,
                     BRIEFING_REDIS_PREFIX=f"bench-{os.getpid()}:")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_t5(Path(tmp) / "tiny")
        started = [start(model_dir, Path(tmp) / f"data{i}", args.queue, extra)
                   for i in range(args.replicas)]
        bases = [base for _, base in started]
        offset = int(time.time())  # new texts on every run: a shared database keeps them
        try:
            print(f"tiny model, {args.replicas} replica(s), database "
                  f"{'PostgreSQL' if args.database_url else 'SQLite'}"
                  f"{' + Redis' if args.redis_url else ''}, BRIEFING_MAX_QUEUE={args.queue} "
                  f"each, {args.requests} requests per level")
            print(f"{'conc':>5}{'ok/s':>8}{'p50 s':>8}{'p99 s':>8}{'p50 ok s':>10}"
                  f"{'p50 429 s':>11}  statuses")
            for i, concurrency in enumerate(levels):
                row = run(bases, concurrency, args.requests, offset=offset + i * 10_000)
                print(f"{row['concurrency']:>5}{row['ok/s']:>8.2f}{row['p50']:>8.3f}"
                      f"{row['p99']:>8.3f}{row['p50 ok']:>10.3f}{row['p50 429']:>11.3f}  "
                      f"{row['statuses']}")
            if args.hits:
                hit = cache_hits(bases, args.hits)
                print(f"cache hits ({args.hits} repeated POSTs, one at a time): "
                      f"p50 {hit['p50'] * 1000:.2f} ms, p99 {hit['p99'] * 1000:.2f} ms")
        finally:
            for process, _ in started:
                process.terminate()
            for process, _ in started:
                process.wait(timeout=60)


if __name__ == "__main__":
    main()
