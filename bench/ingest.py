"""What fetching and following feeds cost, on a loopback site (no real site is touched).

Run by hand: `.venv/bin/python bench/ingest.py [--feeds 20] [--entries 10] [--runs 50]`.

1. A guarded fetch (address check at connect, own decompression, deadline on every read,
   a new connection each time) against a plain reused ``httpx.Client`` (keep-alive, no
   checks) getting the same gzip page: medians, and their ratio.
2. Polling F feeds of E teaser entries each with the extractive engine: the first poll
   (every page fetched, extracted, briefed and stored) against the second (every feed
   answers 304): medians of the wall time, the requests made, and the ratio.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from service.config import Settings  # noqa: E402
from service.ingest.fetch import Fetcher  # noqa: E402
from service.ingest.guard import AddressPolicy  # noqa: E402
from service.metrics import Metrics  # noqa: E402
from service.wiring import Wiring  # noqa: E402
from tests.feed_samples import STORY_A, STORY_B, page, rss  # noqa: E402
from tests.loopback_site import LoopbackSite, Reply  # noqa: E402


def fetch_overhead(site: LoopbackSite, runs: int) -> None:
    body = page("Bench", "\n\n".join([STORY_A, STORY_B] * 30))
    url = site.route("/bench", Reply(body=gzip.compress(body),
                                     headers={"Content-Encoding": "gzip"}))
    fetcher = Fetcher(policy=AddressPolicy(["127.0.0.1"]), timeout_s=20, max_bytes=5_000_000,
                      user_agent="bench")
    guarded, plain = [], []
    # The baseline is the cheapest plain fetch: one reused client, no guard, no limits.
    with httpx.Client(trust_env=False) as client:
        for _ in range(runs):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            assert fetcher.fetch(url).body == body
            guarded.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert client.get(url).content == body
            plain.append(time.perf_counter() - started)
    g, p = statistics.median(guarded), statistics.median(plain)
    print(f"fetch of a {len(body) // 1000} KB page (gzip): guarded {g * 1000:.2f} ms, "
          f"plain httpx.Client.get {p * 1000:.2f} ms, ratio {g / p:.2f}  (median of {runs})")


def polls(site: LoopbackSite, feeds: int, entries: int, runs: int) -> None:
    first, second, asked = [], [], []
    for run in range(runs):
        urls = []
        for f in range(feeds):
            items = []
            for e in range(entries):
                path = f"/r{run}/f{f}/e{e}"
                text = (STORY_A if e % 2 else STORY_B).replace("Vellmar", f"Vellmar {f}-{e}")
                site.route(path, Reply(body=page(f"Story {f}-{e}", text)))
                items.append({"title": f"Story {f}-{e}", "link": site.url(path),
                              "guid": path})
            etag = f'"r{run}f{f}"'
            body = rss(f"Feed {f}", items)

            def answer(handler: object, body: bytes = body, etag: str = etag) -> Reply:
                if handler.headers.get("If-None-Match") == etag:  # type: ignore[attr-defined]
                    return Reply(304, content_type=None, length=False)
                return Reply(body=body, content_type="application/rss+xml",
                             headers={"ETag": etag})

            urls.append(site.route(f"/r{run}/f{f}.rss", answer))
        with tempfile.TemporaryDirectory() as data:
            settings = Settings(data_dir=Path(data), engine="extractive", daily_cron="",
                                fetch_allow_hosts="127.0.0.1", feeds=",".join(urls),
                                feeds_poll_s=900)
            wiring = Wiring.open(settings, Metrics())
            now = [datetime.now(UTC)]
            ingest = wiring.ingest(clock=lambda now=now: now[0])
            try:
                before = len(site.requests)
                started = time.perf_counter()
                ingested = sum(r.ingested for r in ingest.poller.poll())
                first.append(time.perf_counter() - started)
                middle = len(site.requests)
                now[0] += timedelta(seconds=900)
                started = time.perf_counter()
                results = ingest.poller.poll()
                second.append(time.perf_counter() - started)
                assert ingested == feeds * entries
                assert all(r.status == "not_modified" for r in results)
                asked.append((middle - before, len(site.requests) - middle))
            finally:
                ingest.close()
                wiring.close()
    a, b = statistics.median(first), statistics.median(second)
    print(f"poll of {feeds} feeds x {entries} entries: first {a:.2f} s "
          f"({asked[0][0]} requests, {feeds * entries / a:.1f} entries/s), "
          f"unchanged {b * 1000:.0f} ms ({asked[0][1]} requests, all 304), "
          f"ratio {a / b:.0f}x  (median of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50, help="fetches compared")
    parser.add_argument("--poll-runs", type=int, default=3)
    args = parser.parse_args()
    with LoopbackSite() as site:
        fetch_overhead(site, args.runs)
        polls(site, args.feeds, args.entries, args.poll_runs)


if __name__ == "__main__":
    main()
