"""Latency of one POST of the seed article: tiny seq2seq model vs extractive engine.

Run by hand: `.venv/bin/python bench/seed_latency.py [--runs 5]`. Each run uses a fresh data
dir, so every POST is a cache miss; a second POST in the same run measures the cache hit.
Prints medians and the ratio of the two engines measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from tests.tiny_model import build_tiny_t5  # noqa: E402

SEED = (ROOT / "tests" / "seed_article.txt").read_bytes()


def measure(settings: Settings) -> tuple[float, float]:
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        first = client.post("/v1/briefings", content=SEED, headers={"Content-Type": "text/plain"})
        miss = time.perf_counter() - started
        started = time.perf_counter()
        second = client.post("/v1/briefings", content=SEED, headers={"Content-Type": "text/plain"})
        hit = time.perf_counter() - started
    assert first.status_code == 200 and second.json()["cached"] is True
    return miss, hit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_t5(Path(tmp) / "tiny")
        rows = {}
        for engine in ("extractive", "seq2seq"):
            misses, hits = [], []
            for run in range(args.runs):
                settings = Settings(engine=engine, model=str(model_dir),
                                    data_dir=Path(tmp) / f"{engine}-{run}")
                miss, hit = measure(settings)
                misses.append(miss)
                hits.append(hit)
            rows[engine] = (statistics.median(misses), statistics.median(hits))
    print(f"{'engine':<12}{'miss p50 (ms)':>16}{'hit p50 (ms)':>16}")
    for engine, (miss, hit) in rows.items():
        print(f"{engine:<12}{miss * 1000:>16.1f}{hit * 1000:>16.2f}")
    ratio = rows["seq2seq"][0] / rows["extractive"][0]
    print(f"seq2seq (tiny model) / extractive, cache miss: {ratio:.1f}x")


if __name__ == "__main__":
    main()
