"""Long input on the flan-t5-base shape: what one POST costs as articles pile up.

Run by hand, not in CI (about 15 minutes on 2 cores):

    .venv/bin/python bench/long_input.py                 # 1, 5, 20, 40 articles; 1,000 vs 400
    .venv/bin/python bench/long_input.py --counts 1,5 --repeats 1     # a quick look

What it does:
1. Builds (once, cached in --workdir, shared with bench/latency.py) a random-weight model of
   the flan-t5-base shape and a tokenizer trained on the articles; no download. Random
   weights never stop early, so every output length is forced (min = max new tokens: short
   --short-tokens, long --long-tokens, map step --reduce-tokens) with the prompts' beams:
   each model pass costs what a real one does at those lengths.
2. Starts the service in process (``create_app``, the default runtime and settings, a fresh
   database per run so nothing is answered from the cache) and POSTs news articles from
   ../shared/eval/summ_refs_news.jsonl (read at run time, never copied here):
     a. 1, 5, 20 and 40 articles joined into one text (a different rotation of the articles
        in each repeat), against BRIEFING_REQUEST_TIMEOUT_S;
     b. articles of about 1,000 tokens, and each one cut to its leading sentences within
        400 tokens: the target is at most 1.3x;
     c. the same 1,000-token articles in one pass through a window wide enough for all of
        them (the runtime loaded with a 1,280-token window, bypassing the service): what
        the alternative to selecting sentences would cost.
   Repeats are interleaved (a, b, c in turn), so load from other processes falls on all of
   them alike; the tables show medians and ratios of medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evaldata import eval_dir, read_jsonl  # noqa: E402
from bench.latency import build_model, peak_rss_mb, rewrite_prompts  # noqa: E402

TARGET_RATIO = 1.3
MIN_WORDS = 150  # "news articles": skip the briefs


def forced_prompts(directory: Path, lengths: dict[str, int]) -> Path:
    """The production prompts with each output length forced (min = max new tokens)."""
    return rewrite_prompts(directory, lambda kind: {
        "max_new_tokens": lengths[kind], "min_new_tokens": lengths[kind]})


def cut_to(text: str, tokens: int, count: Any) -> str:
    """The leading sentences of ``text`` within ``tokens``."""
    from service.preprocess import preprocess

    kept, used = [], 0
    for sentence in preprocess(text).sentences:
        n = count(sentence)
        if used + n > tokens:
            break
        kept.append(sentence)
        used += n
    return " ".join(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefing-bench")
    parser.add_argument("--counts", default="1,5,20,40", help="articles per POST")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=3,
                        help="~1,000-token articles, each also cut to 400 tokens")
    parser.add_argument("--threads", type=int, default=2,
                        help="compute threads (the issue's machine has 2 cores)")
    parser.add_argument("--short-tokens", type=int, default=24)
    parser.add_argument("--long-tokens", type=int, default=64)
    parser.add_argument("--reduce-tokens", type=int, default=64)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.config import Settings
    from service.engines.ctranslate2_runtime import CTranslate2Runtime, converted_dir
    from service.engines.seq2seq import directory_revision
    from service.prompts import load_prompts

    articles_file = eval_dir() / "summ_refs_news.jsonl"
    model = build_model("base", args.workdir / "flan-t5-base-random", articles_file)
    articles = [r["article"] for r in read_jsonl(articles_file)
                if len(r["article"].split()) >= MIN_WORDS]
    counts = [int(c) for c in args.counts.split(",")]
    run_dir = Path(tempfile.mkdtemp(prefix="long-input-", dir=args.workdir))
    prompts_dir = forced_prompts(run_dir / "prompts", {
        "short": args.short_tokens, "long": args.long_tokens, "reduce": args.reduce_tokens,
    })
    settings = Settings(
        engine="seq2seq", model=str(model), data_dir=args.workdir / "data-base",
        database_url=f"sqlite:///{run_dir / 'bench.sqlite3'}", prompts_dir=prompts_dir,
        torch_threads=args.threads, daily_cron="",
    )
    with TestClient(create_app(settings)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]
        engine = service.engine
        count = engine.count_tokens
        print(f"runtime {engine.inner.runtime.name}, window {engine.max_input_tokens} source "
              f"tokens, budget {settings.max_model_passes} passes, timeout "
              f"{settings.request_timeout_s:g}s, {args.threads} threads", flush=True)
        # b/c: articles of about 1,000 tokens, and each cut to 400.
        thousand = [a for a in articles if 900 <= count(a) <= 1_150][: args.pairs]
        cuts = [cut_to(a, 400, count) for a in thousand]
        wide = CTranslate2Runtime(
            converted_dir(settings.data_dir, directory_revision(model), "int8"),
            quantization="int8", threads=args.threads, max_input_length=1_280,
        )
        long_prompt = load_prompts(prompts_dir)["long"]

        def post(text: str, salt: str) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            response = client.post("/v1/briefings", json={"text": f"{text}\n\n{salt}"})
            elapsed = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200:
                return elapsed, {"status": response.status_code, **body}
            return elapsed, {"status": 200, **body["input"]}

        posts: dict[int, list[tuple[float, dict[str, Any]]]] = {n: [] for n in counts}
        pair: dict[str, list[float]] = {"1000": [], "400": [], "wide": [], "window": []}
        rss: dict[str, float] = {}
        for repeat in range(args.repeats):
            salt = f"Report {repeat} was filed on a Monday."
            for n in counts:
                start = (repeat * 41) % len(articles)
                text = "\n\n".join(articles[(start + i) % len(articles)] for i in range(n))
                posts[n].append(post(text, salt))
                print(f"  repeat {repeat}: {n} articles {posts[n][-1][0]:.1f}s", flush=True)
            for full, cut in zip(thousand, cuts, strict=True):
                pair["1000"].append(post(full, salt)[0])
                pair["400"].append(post(cut, salt)[0])
                for key, limit in (("wide", 1_280), ("window", 512)):
                    ids = engine.inner.tokenizer.encode(long_prompt.render(full),
                                                        max_length=limit)
                    started = time.perf_counter()
                    wide.generate_ids([ids], long_prompt.generation)
                    pair[key].append(time.perf_counter() - started)
            rss[f"after repeat {repeat}"] = peak_rss_mb()

    timeout = settings.request_timeout_s
    print("\n| articles in one POST | characters | read → selected | model passes | "
          "latency p50 | within timeout |")
    print("|---|---|---|---|---|---|")
    for n in counts:
        runs = posts[n]
        first = runs[0][1]
        latency = statistics.median(t for t, _ in runs)
        if first["status"] != 200:
            print(f"| {n} | | | | {latency:.1f} s | {first['status']} |")
            continue
        share = first["chars_selected"] / first["chars_read"]
        print(f"| {n} | {first['chars_read']:,} | {share:.0%}"
              f" | {first['model_passes']} / {first['max_model_passes']} | {latency:.1f} s | "
              f"{'yes' if max(t for t, _ in runs) < timeout else 'no'} |")
    m1000, m400, mwide, mwindow = (
        statistics.median(pair[k]) for k in ("1000", "400", "wide", "window")
    )
    print(f"\n~1,000-token article (one window of salient sentences): {m1000:.2f} s; cut to 400 "
          f"tokens: {m400:.2f} s; ratio {m1000 / m400:.2f}x (target <= {TARGET_RATIO}x)")
    print(f"one long-briefing pass over the whole ~1,000-token article (a 1,280-token window): "
          f"{mwide:.2f} s; over one 512-token window: {mwindow:.2f} s; ratio "
          f"{mwide / mwindow:.2f}x")
    print(f"peak RSS {max(rss.values()):.0f} MB")
    print(json.dumps({"posts": {n: [t for t, _ in posts[n]] for n in counts}, "pair": pair}))


if __name__ == "__main__":
    main()
