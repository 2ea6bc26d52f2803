"""Latency, throughput, memory and cold start: plain transformers (A) vs this service (B).

Run by hand, not in CI:

    .venv/bin/python bench/latency.py                      # small and base shapes, ~15 min
    .venv/bin/python bench/latency.py --shapes small --articles 4 --short-tokens 24 \\
        --long-tokens 48                                    # a quick look, ~2 min

What it does:
1. Builds random-weight models with the flan-t5-small and flan-t5-base shapes (gated-GELU,
   vocabulary 32128, one shared input embedding, an lm_head of its own as in flan-t5) and a
   sentencepiece tokenizer trained on the articles: no download. Cached in --workdir.
2. Reads articles from ../shared/eval/summ_refs_news.jsonl at run time (never copied here);
   the first --articles with at least 380 words, so each input fills the 512-token window.
3. Runs each variant in a fresh subprocess (so peak RSS and cold start are its own), and
   each variant's two phases in two fresh subprocesses, because peak RSS only grows within
   a process: one caller (the first briefing, then the latency) and 8 callers (one warm-up
   briefing, then the throughput):
     A  plain transformers: tokenize → generate() → decode, one article at a time (a plain
        loop has no concurrency: it serves 8 callers one after another);
     B  this service's engine: select_engine() → micro-batcher → runtime (BRIEFING_RUNTIME,
        default auto = CTranslate2 int8), 8 callers at once for the throughput;
     B' (--short-from-long) B, but the short briefing is written from the long one;
     S  the service itself, served as `briefing serve` serves it (uvicorn on loopback, the
        start on a thread): process start to the first 200 of /readyz, the first briefing
        after ready against the same article once warm (the first-request cost, a miss
        each time), then cache hits of brief() and of HTTP POSTs (one keep-alive
        connection).
   Output lengths are forced (min = max new tokens), with the prompts' beam settings, so A
   and B do the same work whatever the random weights say.
4. Prints one table per shape with B/A ratios and the issue's targets.

Random weights generate noise, so this measures speed, not quality.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARTICLES = ROOT.parent / "shared" / "eval" / "summ_refs_news.jsonl"
SHAPES: dict[str, dict[str, int]] = {
    # From google/flan-t5-small and google/flan-t5-base config.json.
    "small": {"d_model": 512, "d_ff": 1024, "num_heads": 6, "num_layers": 8},
    "base": {"d_model": 768, "d_ff": 2048, "num_heads": 12, "num_layers": 12},
}
MIN_WORDS = 380
# Issue 25's goals (the flan-t5-base shape on this 2-core machine).
TARGETS = {"throughput": 10.0, "latency": 0.15, "rss": 0.3, "ready_s": 1.0, "hit_ms": 1.0,
           "hit_http_ms": 3.0, "rss_1": 0.3, "first_ratio": 1.5}
PHASES = ("one", "eight")  # one caller, 8 callers: each in a fresh child (peak RSS)


def load_articles(path: Path, count: int) -> list[str]:
    if not path.is_file():
        sys.exit(f"{path} not found: pass --articles-file (a JSONL file with an `article` field)")
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["article"]
            if len(text.split()) >= MIN_WORDS:
                articles.append(text)
            if len(articles) == count:
                break
    return articles


# -- 1. models ----------------------------------------------------------------------------


def build_model(shape: str, directory: Path, articles_file: Path) -> Path:
    """A random-weight flan-t5-shaped model and a tokenizer trained on the articles."""
    if (directory / "model.safetensors").is_file():
        return directory
    import sentencepiece as spm
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    texts = [json.loads(line)["article"] for line in articles_file.open(encoding="utf-8")]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(line for t in texts for line in t.splitlines() if line.strip()),
        model_prefix=str(directory / "spiece"), vocab_size=16000, hard_vocab_limit=False,
        model_type="unigram", character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2,
        bos_id=-1, minloglevel=2,
    )
    tokenizer = T5TokenizerFast.from_pretrained(str(directory), extra_ids=0,
                                                model_max_length=512)
    dims = SHAPES[shape]
    config = T5Config(
        vocab_size=32128, d_kv=64, num_decoder_layers=dims["num_layers"],
        feed_forward_proj="gated-gelu", tie_word_embeddings=False,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, **dims,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        model.encoder.embed_tokens.weight = model.shared.weight
        model.decoder.embed_tokens.weight = model.shared.weight
        model.lm_head.weight = torch.nn.Parameter(
            torch.randn_like(model.shared.weight) * config.d_model**-0.5
        )
    model.config.tie_word_embeddings = False
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def rewrite_prompts(directory: Path, settings: Any) -> Path:
    """The production prompts copied to ``directory`` with generation settings replaced:
    ``settings(kind)`` gives ``{name: value}`` for each kind's lines to rewrite."""
    from service.prompts import DEFAULT_PROMPTS, KINDS

    directory.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        path = DEFAULT_PROMPTS / f"{kind}.toml"
        values = settings(kind)
        lines = [
            next((f"{name} = {value}" for name, value in values.items()
                  if line.startswith(name)), line)
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        (directory / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def forced_prompts(directory: Path, args: argparse.Namespace) -> Path:
    """The production prompts with A's and B's forced lengths (the reduce prompt gets the
    long one's) and beams, so the service's briefings do the work B's do."""
    def settings(kind: str) -> dict[str, int]:
        tokens = args.short_tokens if kind == "short" else args.long_tokens
        return {"max_new_tokens": tokens, "min_new_tokens": tokens, "num_beams": args.beams}

    return rewrite_prompts(directory, settings)


# -- 3. the variants, each in its own process ----------------------------------------------


def _forced(kind: str, tokens: int, beams: int) -> Any:
    from service.prompts import GenerationSettings, Prompt, load_prompts

    prompt = load_prompts()[kind]
    settings = GenerationSettings(
        max_new_tokens=tokens, min_new_tokens=tokens, num_beams=beams,
        no_repeat_ngram_size=prompt.generation.no_repeat_ngram_size,
        length_penalty=prompt.generation.length_penalty,
    )
    return Prompt(kind, prompt.template, settings)


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ``getrusage``: Linux carries ru_maxrss over exec, so a
    child would report its parent's peak (the parent builds the models)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_a(args: argparse.Namespace, spawned: float) -> dict[str, Any]:
    """A: plain transformers, one article at a time (phase ``one`` or ``eight``)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model)
    ready = time.time() - spawned
    prompts = [_forced("short", args.short_tokens, args.beams),
               _forced("long", args.long_tokens, args.beams)]

    def brief(article: str) -> list[str]:
        outputs = []
        for prompt in prompts:
            encoded = tokenizer(prompt.render(article), return_tensors="pt", truncation=True,
                                max_length=512)
            g = prompt.generation
            beam_options = ({"length_penalty": g.length_penalty, "early_stopping": True}
                            if g.num_beams > 1 else {})
            ids = model.generate(
                **encoded, max_new_tokens=g.max_new_tokens, min_new_tokens=g.min_new_tokens,
                num_beams=g.num_beams, no_repeat_ngram_size=g.no_repeat_ngram_size,
                do_sample=False, **beam_options,
            )
            outputs.append(tokenizer.decode(ids[0], skip_special_tokens=True))
        return outputs

    articles = load_articles(Path(args.articles_file), args.articles)
    t = time.perf_counter()
    brief(articles[0])
    first_brief = time.perf_counter() - t
    first = time.time() - spawned
    if args.phase == "eight":
        # A plain loop has no concurrency: it serves the 8 callers one after another, so
        # its throughput is that of the loop over all --articles.
        started = time.perf_counter()
        for article in articles:
            brief(article)
        total = time.perf_counter() - started
        return {"throughput": len(articles) / total, "rss_8_mb": peak_rss_mb(),
                "torch_imported": "torch" in sys.modules}
    latencies = []
    for article in articles if args.a_all else articles[: args.latency_articles]:
        t = time.perf_counter()
        brief(article)
        latencies.append(time.perf_counter() - t)
    return {"ready_s": ready, "first_s": first, "first_brief_s": first_brief,
            "latency_s": statistics.median(latencies), "rss_1_mb": peak_rss_mb(),
            "torch_imported": "torch" in sys.modules}


def child_b(args: argparse.Namespace, spawned: float) -> dict[str, Any]:
    """B: the service's engine (select_engine → batcher → runtime): one caller (phase
    ``one``) or 8 callers at once (phase ``eight``)."""
    from service.config import Settings
    from service.engines import GenerationRequest, select_engine
    from service.prompts import load_prompts

    settings = Settings(engine="seq2seq", model=args.model, data_dir=Path(args.data_dir),
                        runtime=args.runtime, quantization=args.quantization,
                        torch_threads=args.threads)
    engine = select_engine(settings, load_prompts()).engine
    ready = time.time() - spawned
    short = _forced("short", args.short_tokens, args.beams)
    long = _forced("long", args.long_tokens, args.beams)

    def brief(article: str) -> list[str]:
        if args.short_from_long:
            written = engine.generate([GenerationRequest(article, long)])[0]
            return [engine.generate([GenerationRequest(written, short)])[0], written]
        return engine.generate([GenerationRequest(article, short),
                                GenerationRequest(article, long)])

    articles = load_articles(Path(args.articles_file), args.articles)
    t = time.perf_counter()
    brief(articles[0])
    first_brief = time.perf_counter() - t
    first = time.time() - spawned
    runtime = engine.inner.runtime.name  # type: ignore[attr-defined]
    if args.phase == "one":
        latencies = []
        for article in articles[: args.latency_articles]:
            t = time.perf_counter()
            brief(article)
            latencies.append(time.perf_counter() - t)
        engine.close()  # type: ignore[attr-defined]
        return {"ready_s": ready, "first_s": first, "first_brief_s": first_brief,
                "latency_s": statistics.median(latencies), "rss_1_mb": peak_rss_mb(),
                "torch_imported": "torch" in sys.modules, "runtime": runtime}
    threads = [threading.Thread(target=brief, args=(a,)) for a in articles]
    batcher = engine.batcher  # type: ignore[attr-defined]
    ran_before = len(batcher.batch_sizes)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    concurrent = batcher.batch_sizes[ran_before:]  # the batches of the callers at once
    engine.close()  # type: ignore[attr-defined]
    return {"throughput": len(articles) / total, "rss_8_mb": peak_rss_mb(),
            "torch_imported": "torch" in sys.modules, "runtime": runtime,
            "batch_sizes": concurrent,
            "batch_mean": sum(concurrent) / max(1, len(concurrent))}


def child_service(args: argparse.Namespace, spawned: float) -> dict[str, Any]:
    """S: ``briefing serve``'s way: the port bound at once and the start on a thread, served
    by uvicorn on loopback; ready = process spawn to the first 200 of /readyz. Then, over one
    keep-alive HTTP connection: the first briefing after ready against the same article
    briefed again once warm (its cache emptied each time, so each is a miss: the same work;
    other articles in between), and cache hits of brief() in process and of POSTs."""
    import http.client

    from cache_hit import forget_briefings, serve_on_loopback

    from service.app import create_app
    from service.config import Settings
    from service.storage.articles import Article

    settings = Settings(engine="seq2seq", model=args.model, data_dir=Path(args.data_dir),
                        runtime=args.runtime, quantization=args.quantization,
                        torch_threads=args.threads, daily_cron="", feeds_poll_s=0,
                        prompts_dir=forced_prompts(Path(args.data_dir) / "forced-prompts", args))
    articles = load_articles(Path(args.articles_file), args.latency_articles + 1)
    app = create_app(settings, open_in_background=True)
    server, port = serve_on_loopback(app)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}

    def request(method: str, path: str, body: str | None = None) -> tuple[int, bytes, float]:
        t = time.perf_counter()
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - t

    while request("GET", "/readyz")[0] != 200:
        time.sleep(0.005)
    ready = time.time() - spawned

    def miss(text: str) -> float:
        status, payload, elapsed = request("POST", "/v1/briefings", json.dumps({"text": text}))
        answer = json.loads(payload)
        assert status == 200 and answer["cached"] is False and answer["engine"] == "seq2seq", \
            payload[:300]
        return elapsed

    service = app.state.service
    firsts = [miss(articles[0])]
    for other in articles[1:]:
        miss(other)
    for _ in range(args.latency_articles):
        forget_briefings(service)
        firsts.append(miss(articles[0]))
    article = Article(text=articles[0])
    hits = []
    for _ in range(args.hits):
        t = time.perf_counter()
        assert service.brief(article)["cached"] is True
        hits.append(time.perf_counter() - t)
    body = json.dumps({"text": article.text})
    http_hits = []
    for _ in range(args.hits):
        status, _payload, elapsed = request("POST", "/v1/briefings", body)
        assert status == 200
        http_hits.append(elapsed)
    server.should_exit = True
    steady = statistics.median(firsts[1:])
    return {"ready_s": ready, "first_brief_s": firsts[0], "steady_s": steady,
            "first_ratio": firsts[0] / steady,
            "hit_ms": statistics.median(hits) * 1000,
            "hit_http_ms": statistics.median(http_hits) * 1000, "rss_mb": peak_rss_mb(),
            "torch_imported": "torch" in sys.modules}


def child_convert(args: argparse.Namespace, spawned: float) -> dict[str, Any]:
    """The one-time CTranslate2 conversion, outside the measured processes."""
    from service.config import Settings
    from service.engines import ctranslate2_runtime
    from service.engines.seq2seq import directory_revision

    settings = Settings(engine="seq2seq", model=args.model, data_dir=Path(args.data_dir),
                        quantization=args.quantization)
    target = ctranslate2_runtime.converted_dir(
        settings.data_dir, directory_revision(Path(args.model)), args.quantization
    )
    cached = (target / ctranslate2_runtime.MARKER).is_file()
    t = time.perf_counter()
    ctranslate2_runtime.ensure_converted(Path(args.model), target, args.quantization,
                                         timeout_s=1800)
    return {"convert_s": time.perf_counter() - t, "cached": cached}


CHILDREN = {"A": child_a, "B": child_b, "S": child_service, "convert": child_convert}


# -- 4. the parent: run, collect, print ----------------------------------------------------


def run_child(role: str, args: argparse.Namespace, model: Path, data_dir: Path,
              *extra: str) -> dict[str, Any]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child", role, "--model", str(model),
        "--data-dir", str(data_dir), "--articles-file", str(args.articles_file),
        "--articles", str(args.articles), "--latency-articles", str(args.latency_articles),
        "--short-tokens", str(args.short_tokens), "--long-tokens", str(args.long_tokens),
        "--beams", str(args.beams), "--runtime", args.runtime,
        "--quantization", args.quantization, "--hits", str(args.hits),
        "--threads", str(args.threads),
        *(["--a-all"] if args.a_all else []), *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "BENCH_SPAWNED": repr(time.time())}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"variant {role} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_phases(role: str, args: argparse.Namespace, model: Path, data_dir: Path,
               *extra: str) -> dict[str, Any]:
    """One run of A or B: one caller and 8 callers, each in a fresh child (peak RSS only
    grows within a process), merged; ``rss_mb`` is the larger peak (the run's peak, as when
    both phases ran in one process)."""
    one, eight = (run_child(role, args, model, data_dir, "--phase", phase, *extra)
                  for phase in PHASES)
    return {**eight, **one, "rss_mb": max(one["rss_1_mb"], eight["rss_8_mb"]),
            "torch_imported": one["torch_imported"] or eight["torch_imported"]}


def _ratio(b: float, a: float) -> str:
    return f"{b / a:.2f}x" if a else "-"


def print_table(shape: str, m: dict[str, dict[str, Any]], conversion: dict[str, Any],
                args: argparse.Namespace) -> None:
    a, b, s, t = m["A"], m["B"], m["S"], TARGETS
    rows = [
        ("latency p50 / article (s)", "latency_s", f"<= {t['latency']}x",
         lambda r: r <= t["latency"], "{:.2f}"),
        ("throughput @8 (articles/s)", "throughput", f">= {t['throughput']:g}x",
         lambda r: r >= t["throughput"], "{:.3f}"),
        ("peak RSS (MB)", "rss_mb", f"<= {t['rss']}x", lambda r: r <= t["rss"], "{:.0f}"),
        ("peak RSS, 1 caller (MB)", "rss_1_mb", f"<= {t['rss_1']}x",
         lambda r: r <= t["rss_1"], "{:.0f}"),
        (f"peak RSS, {args.articles} callers (MB)", "rss_8_mb",
         f"B <= A at 1 caller ({a['rss_1_mb']:.0f} MB; B is "
         f"{b['rss_8_mb'] / a['rss_1_mb']:.2f}x)",
         lambda _: b["rss_8_mb"] <= a["rss_1_mb"], "{:.0f}"),
        ("cold start to first briefing (s)", "first_s", "", None, "{:.2f}"),
        ("first briefing after ready (s)", "first_brief_s",
         f"first/steady p50: A {a['first_brief_s'] / a['latency_s']:.2f}x, "
         f"B {b['first_brief_s'] / b['latency_s']:.2f}x", None, "{:.2f}"),
        ("engine ready after start (s)", "ready_s", "", None, "{:.2f}"),
    ]
    print(f"\n== flan-t5-{shape} shape (random weights): {args.articles} articles x (short "
          f"{args.short_tokens} + long {args.long_tokens} tokens, forced), {args.beams} beams; "
          f"B = {b['runtime']}; threads {args.threads or 'all'}; medians of {len(a['runs'])} "
          "interleaved runs")
    print(f"{'metric':<34}{'A transformers':>15}{'B service':>12}{'B/A':>8}  target"
          "   (phases: 1 caller and 8 callers, each in a fresh process; A serves the 8 "
          "callers one after another)")
    for name, key, target, check, fmt in rows:
        ratio = b[key] / a[key]
        mark = "" if check is None else ("  met" if check(ratio) else "  MISSED")
        spread = [rb[key] / ra[key] for ra, rb in zip(a["runs"], b["runs"], strict=True)]
        print(f"{name:<34}{fmt.format(a[key]):>15}{fmt.format(b[key]):>12}{ratio:>7.2f}x  "
              f"{target}{mark}  (runs: {', '.join(f'{x:.2f}' for x in spread)})")
    ok = s["ready_s"] <= t["ready_s"]
    print(f"{'process start to /readyz 200 (s)':<34}{'':>15}{s['ready_s']:>12.2f}{'':>8}  "
          f"<= {t['ready_s']:g} s{'  met' if ok else '  MISSED'}  (uvicorn on loopback, the "
          "start on a thread as `briefing serve` does)")
    print(f"{'first briefing after /readyz (s)':<34}{'':>15}{s['first_brief_s']:>12.2f}"
          f"{'':>8}  (HTTP; the same article once warm, a miss again: p50 "
          f"{s['steady_s']:.2f} s)")
    ok = s["first_ratio"] <= t["first_ratio"]
    spread = ", ".join(f"{r['first_ratio']:.2f}" for r in s["runs"])
    print(f"{'first-request cost (first/steady)':<34}{'':>15}{s['first_ratio']:>11.2f}x"
          f"{'':>8}  <= {t['first_ratio']:g}x{'  met' if ok else '  MISSED'}  (runs: {spread})")
    ok = s["hit_ms"] <= t["hit_ms"]
    print(f"{'cache hit p50, brief() (ms)':<34}{'':>15}{s['hit_ms']:>12.2f}{'':>8}  "
          f"<= {t['hit_ms']:g} ms{'  met' if ok else '  MISSED'}")
    ok = s["hit_http_ms"] <= t["hit_http_ms"]
    print(f"{'cache hit p50, HTTP POST (ms)':<34}{'':>15}{s['hit_http_ms']:>12.2f}{'':>8}  "
          f"<= {t['hit_http_ms']:g} ms{'  met' if ok else '  MISSED'}  (one keep-alive "
          "connection)")
    if "B'" in m:
        b2 = m["B'"]
        print(f"short from long (B'): latency {b2['latency_s']:.2f} s "
              f"({_ratio(b2['latency_s'], b['latency_s'])} of B), throughput "
              f"{b2['throughput']:.3f}/s ({_ratio(b2['throughput'], b['throughput'])} of B)")
    print(f"torch imported: A {a['torch_imported']}, B {b['torch_imported']}, "
          f"service {s['torch_imported']}")
    print(f"B batch sizes with {args.articles} callers at once (last run): "
          f"{b['runs'][-1]['batch_sizes']}, mean {b['batch_mean']:.2f} prompts per batch "
          f"(median of the runs' means)")
    how = "cached" if conversion["cached"] else f"{conversion['convert_s']:.1f} s, once"
    print(f"CTranslate2 conversion: {how}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="small,base")
    parser.add_argument("--articles", type=int, default=8, help="and the concurrency of B")
    parser.add_argument("--latency-articles", type=int, default=3)
    parser.add_argument("--short-tokens", type=int, default=24)
    parser.add_argument("--long-tokens", type=int, default=64)
    parser.add_argument("--beams", type=int, default=4, help="the prompts use 4")
    parser.add_argument("--runtime", default="auto", choices=["auto", "torch", "ctranslate2"])
    parser.add_argument("--quantization", default="int8")
    parser.add_argument("--short-from-long", action="store_true",
                        help="also measure B writing the short briefing from the long one")
    parser.add_argument("--hits", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0,
                        help="compute threads for A and B; 0: each library's default (all "
                             "cores). On a shared machine use the cores that are free: "
                             "oversubscribed threads make both sides many times slower")
    parser.add_argument("--a-all", action="store_true",
                        help="A's latency over all --articles, not only the latency ones (its "
                             "8-caller run always briefs all --articles)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs of each variant")
    parser.add_argument("--articles-file", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefing-bench")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=PHASES, default="one", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spawned = float(os.environ.get("BENCH_SPAWNED", time.time()))
        print(json.dumps(CHILDREN[args.child](args, spawned)))
        return
    load_articles(args.articles_file, 1)  # fail early without the file
    load_start = os.getloadavg()
    for shape in args.shapes.split(","):
        model = build_model(shape, args.workdir / f"flan-t5-{shape}-random", args.articles_file)
        data_dir = args.workdir / f"data-{shape}"
        conversion = run_child("convert", args, model, data_dir)
        runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": [], "B'": [], "S": []}
        for _ in range(args.repeats):  # interleaved, so a burst of load hits both sides
            runs["A"].append(run_phases("A", args, model, data_dir))
            runs["B"].append(run_phases("B", args, model, data_dir))
            if args.short_from_long:
                runs["B'"].append(run_phases("B", args, model, data_dir, "--short-from-long"))
            service_dir = data_dir / "service"  # a fresh cache, the same converted model
            shutil.rmtree(service_dir, ignore_errors=True)
            service_dir.mkdir(parents=True)
            (data_dir / "ctranslate2").mkdir(exist_ok=True)
            (service_dir / "ctranslate2").symlink_to(data_dir / "ctranslate2")
            runs["S"].append(run_child("S", args, model, service_dir))
        print_table(shape, {k: _medians(v) for k, v in runs.items() if v}, conversion, args)
    print(f"\nload average (1, 5, 15 min) at start {_loads(load_start)}, at end "
          f"{_loads(os.getloadavg())}, on {os.cpu_count()} CPUs")


def _loads(loads: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in loads)


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric field's median over the runs; other fields from the last run."""
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        if isinstance(value, float):
            merged[key] = statistics.median(r[key] for r in runs)
    merged["runs"] = runs
    return merged


if __name__ == "__main__":
    main()
