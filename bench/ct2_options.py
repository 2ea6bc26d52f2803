"""CTranslate2 options against the service's default: compute type, threads, batch size, beams.

Run by hand, not in CI:

    .venv/bin/python bench/ct2_options.py                       # flan-t5-base shape, all variants
    .venv/bin/python bench/ct2_options.py --shapes small --repeats 1 --cap-tokens 32
                                                                 # a quick look

What it does:
1. Builds (or reuses: bench/latency.py's helpers and --workdir) the random-weight model with
   the flan-t5 shape, and converts it with the service's own code
   (service/engines/ctranslate2_runtime.py: ``ensure_converted``, cached in the same data
   dir as bench/latency.py), once per compute type, as ``BRIEFING_QUANTIZATION`` would.
2. Runs each variant in a fresh child process (peak RSS only grows within a process), which
   loads the model as the service does (``ctranslate2_runtime.load``; only
   ``inter_threads`` is set from outside, the service always uses 1), prepares the prompts
   with the service's engine (``Seq2SeqEngine.prepare``: render, tokenize, cut to the
   window) and calls the service's runtime (``generate_ids``) on:
     1 caller  one article as the service writes it: the long briefing from the article,
               then the short one from the long one (BRIEFING_SHORT_SOURCE=auto);
     batch     --batch articles at once: their long prompts, then their short ones, split
               into batches of max_batch_size run one after another (the service runs one
               batch at a time); with inter_threads 2 the articles go to two workers that run
               their batches at the same time.
   Lengths, beams, length penalty and no_repeat_ngram_size are the prompts' (prompts/*.toml,
   read by ``service.prompts.load_prompts``), not forced: random weights rarely end early,
   so outputs run to max_new_tokens (--cap-tokens lowers it for a quick look).
3. Prints medians over --repeats interleaved runs, ratios against the service's current
   default (int8, intra_threads = usable cores, inter_threads 1, the prompts' beams and
   length penalty, max_batch_size 8), peak RSS per phase, and for every variant what can be
   judged without real weights: output lengths against the asked min/max and the share of
   outputs with a repeated 3-gram. Random weights write noise: quality cannot be judged here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.latency import (  # noqa: E402
    DEFAULT_ARTICLES,
    build_model,
    load_articles,
    peak_rss_mb,
)

COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32")
BEAMS = (1, 2, 4)
BATCH_SIZES = (1, 4, 8)


def service_default(field: str) -> Any:
    """A setting's default in service/config.py (not the environment's value)."""
    from service.config import Settings

    return Settings.model_fields[field].default


def variants(cores: int) -> dict[str, dict[str, Any]]:
    """Each variant's options; ``None`` beams or length penalty: the prompts' own."""
    from service.engines.seq2seq import usable_cores
    from service.prompts import load_prompts

    default = {"compute_type": service_default("quantization"), "intra": cores or usable_cores(),
               "inter": 1, "max_batch_size": service_default("max_batch_size"),
               "beams": None, "length_penalty": None}
    found: dict[str, dict[str, Any]] = {"default": default}
    for compute_type in COMPUTE_TYPES:
        if compute_type != default["compute_type"]:
            found[compute_type] = {**default, "compute_type": compute_type}
    half = max(1, default["intra"] // 2)
    for intra, inter in ((half, 2), (1, 1)):
        if (intra, inter) != (default["intra"], default["inter"]):
            found[f"threads-{intra}x{inter}"] = {**default, "intra": intra, "inter": inter}
    for size in BATCH_SIZES:
        if size != default["max_batch_size"]:
            found[f"mbs-{size}"] = {**default, "max_batch_size": size}
    prompts = load_prompts()
    generation = [prompts[kind].generation for kind in ("long", "short")]
    for beams in BEAMS:
        if any(g.num_beams != beams for g in generation):
            found[f"beams-{beams}"] = {**default, "beams": beams}
    if any(g.length_penalty != 1.0 for g in generation):
        found["lp-1.0"] = {**default, "length_penalty": 1.0}
    return found


def describe(spec: dict[str, Any]) -> str:
    beams = "prompts'" if spec["beams"] is None else spec["beams"]
    penalty = "prompts'" if spec["length_penalty"] is None else spec["length_penalty"]
    return (f"{spec['compute_type']}, threads {spec['intra']}x{spec['inter']}, "
            f"max_batch_size {spec['max_batch_size']}, beams {beams}, length_penalty {penalty}")


# -- the child: one variant ----------------------------------------------------------------


def _window(model: Path) -> int:
    """The model's input window as the service computes it (512 for flan-t5)."""
    from service.engines.families import (
        detect_family,
        model_window,
        read_config,
        tokenizer_max_length,
    )

    config = read_config(model)
    return model_window(config, tokenizer_max_length(model), detect_family(config, model),
                        service_default("max_input_tokens"))


def _load(model: Path, data_dir: Path, spec: dict[str, Any]) -> tuple[Any, Any]:
    """The service's tokenizer and runtime, with ``inter_threads`` set from ``spec``."""
    import ctranslate2

    from service.engines import ctranslate2_runtime
    from service.engines.seq2seq import directory_revision

    translator = ctranslate2.Translator

    def with_inter_threads(path: str, **options: Any) -> Any:
        return translator(path, **{**options, "inter_threads": spec["inter"]})

    ctranslate2.Translator = with_inter_threads  # the runtime constructs it with inter 1
    try:
        return ctranslate2_runtime.load(
            model, directory_revision(model), data_dir=data_dir,
            quantization=spec["compute_type"], threads=spec["intra"], window=_window(model),
            timeout_s=1800,
        )
    finally:
        ctranslate2.Translator = translator


def _repeats_3gram(ids: list[int]) -> bool:
    grams = [tuple(ids[i : i + 3]) for i in range(len(ids) - 2)]
    return len(grams) != len(set(grams))


def child(args: argparse.Namespace) -> dict[str, Any]:
    from service.engines import GenerationRequest
    from service.engines.seq2seq import Seq2SeqEngine
    from service.lengths import fit_length
    from service.prompts import Prompt, load_prompts

    spec = json.loads(args.child)
    model, data_dir = Path(args.model), Path(args.data_dir)
    prompt_set = load_prompts()
    tokenizer, runtime = _load(model, data_dir, spec)
    # The service's prepare (render, tokenize, cut to the window) and decode; generation
    # calls the runtime directly, without the engine's one-batch-at-a-time lock, so that
    # inter_threads 2 can run two batches at once.
    engine = Seq2SeqEngine(tokenizer, runtime, model_id=str(model), revision="bench",
                           window=runtime.max_input_length, prompts=prompt_set)
    prompts = {}
    for kind in ("long", "short"):
        g = prompt_set[kind].generation
        cap = args.cap_tokens or g.max_new_tokens
        g = dataclasses.replace(
            g, max_new_tokens=min(g.max_new_tokens, cap),
            min_new_tokens=min(g.min_new_tokens, cap),
            num_beams=spec["beams"] or g.num_beams,
            length_penalty=(g.length_penalty if spec["length_penalty"] is None
                            else spec["length_penalty"]))
        prompts[kind] = Prompt(kind, prompt_set[kind].template, g)
    articles = load_articles(Path(args.articles_file), args.batch)
    long_max_words = service_default("long_max_words")
    produced: dict[str, list[list[int]]] = {"long": [], "short": []}
    lock = threading.Lock()

    def generate(kind: str, texts: list[str]) -> list[str]:
        """``texts`` as ``kind``, in batches of max_batch_size, one after another."""
        prepared = [engine.prepare(GenerationRequest(t, prompts[kind])) for t in texts]
        size = spec["max_batch_size"]
        outputs: list[list[int]] = []
        for start in range(0, len(prepared), size):
            batch = prepared[start : start + size]
            outputs += runtime.generate_ids([p.ids for p in batch], batch[0].settings)
        with lock:
            produced[kind] += outputs
        return engine.decode(outputs)

    def brief(texts: list[str]) -> None:
        """Long briefings from the articles, then short ones from the long ones."""
        longs = generate("long", texts)
        generate("short", [fit_length(t, max_words=long_max_words) or a
                           for t, a in zip(longs, texts, strict=True)])

    warm = dataclasses.replace(prompts["short"].generation, max_new_tokens=2,
                               min_new_tokens=1, num_beams=1)
    runtime.generate_ids([engine.prepare(GenerationRequest(articles[0], prompts["short"])).ids],
                         warm)
    rss_load = peak_rss_mb()
    t = time.perf_counter()
    brief(articles[:1])
    one = time.perf_counter() - t
    rss_one = peak_rss_mb()
    groups = [articles[i :: spec["inter"]] for i in range(spec["inter"])]
    workers = [threading.Thread(target=brief, args=(g,)) for g in groups if g]
    t = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    batch = time.perf_counter() - t
    found: dict[str, Any] = {"one_s": one, "batch_s": batch, "throughput": len(articles) / batch,
                             "rss_load_mb": rss_load, "rss_one_mb": rss_one,
                             "rss_batch_mb": peak_rss_mb(), "runtime": runtime.name}
    for kind, outputs in produced.items():
        g = prompts[kind].generation
        lengths = [len(o) for o in outputs]
        found[kind] = {"count": len(lengths), "mean": statistics.mean(lengths),
                       "low": min(lengths),
                       "high": max(lengths), "asked": [g.min_new_tokens, g.max_new_tokens],
                       "at_max": sum(n >= g.max_new_tokens for n in lengths) / len(lengths),
                       "repeat3": sum(map(_repeats_3gram, outputs)) / len(outputs),
                       "beams": g.num_beams, "length_penalty": g.length_penalty,
                       "no_repeat": g.no_repeat_ngram_size}
    return found


# -- the parent ----------------------------------------------------------------------------


def run_child(spec: dict[str, Any], args: argparse.Namespace, model: Path,
              data_dir: Path) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec),
               "--model", str(model), "--data-dir", str(data_dir),
               "--articles-file", str(args.articles_file), "--batch", str(args.batch),
               "--cap-tokens", str(args.cap_tokens)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"variant {describe(spec)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def convert(model: Path, data_dir: Path, compute_types: set[str]) -> dict[str, str]:
    """The service's conversion of ``model`` for each compute type (cached)."""
    from service.engines import ctranslate2_runtime
    from service.engines.seq2seq import directory_revision

    how = {}
    for compute_type in sorted(compute_types):
        target = ctranslate2_runtime.converted_dir(data_dir, directory_revision(model),
                                                   compute_type)
        if (target / ctranslate2_runtime.MARKER).is_file():
            how[compute_type] = "cached"
            continue
        t = time.perf_counter()
        ctranslate2_runtime.ensure_converted(model, target, compute_type, timeout_s=1800)
        how[compute_type] = f"{time.perf_counter() - t:.1f} s"
    return how


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _lengths(found: dict[str, Any]) -> str:
    low, high = found["asked"]
    return (f"{found['mean']:.0f} [{found['low']}-{found['high']}] of {low}-{high}, "
            f"{found['at_max'] * 100:.0f}% at max")


def print_table(shape: str, specs: dict[str, dict[str, Any]],
                runs: dict[str, list[dict[str, Any]]], conversions: dict[str, str],
                args: argparse.Namespace) -> None:
    base = runs["default"]
    one0, batch0 = _median(base, "one_s"), _median(base, "batch_s")
    last = base[-1]
    print(f"\n== flan-t5-{shape} shape (random weights), CTranslate2 on CPU; 1 caller = one "
          f"article (long, then short from the long one), batch = {args.batch} articles at "
          f"once; medians of {len(base)} interleaved runs, each variant in a fresh process")
    for kind in ("long", "short"):
        k = last[kind]
        print(f"   {kind} prompt: {k['beams']} beams, length_penalty {k['length_penalty']}, "
              f"{k['asked'][0]}-{k['asked'][1]} new tokens, no_repeat_ngram_size "
              f"{k['no_repeat']}" + (f" (capped at {args.cap_tokens})" if args.cap_tokens
                                     else ""))
    print(f"   default = the service's: {describe(specs['default'])}")
    print(f"   conversions (the service's code): "
          f"{', '.join(f'{k} {v}' for k, v in conversions.items())}")
    print(f"{'variant':<20}{'1 caller s':>11}{'x def':>7}{'batch s':>9}{'x def':>7}"
          f"{'art/s':>7}{'RSS load':>9}{'RSS 1':>7}{'RSS bat':>8}  "
          f"{'long tokens: mean [range] of asked':<42}{'short tokens':<34}{'rep 3-gram':>10}")
    for name, found in runs.items():
        one, batch = _median(found, "one_s"), _median(found, "batch_s")
        r = found[-1]
        share = (sum(r[k]["repeat3"] * r[k]["count"] for k in ("long", "short"))
                 / sum(r[k]["count"] for k in ("long", "short")))
        print(f"{name:<20}{one:>11.2f}{one / one0:>6.2f}x{batch:>9.2f}{batch / batch0:>6.2f}x"
              f"{_median(found, 'throughput'):>7.2f}{_median(found, 'rss_load_mb'):>9.0f}"
              f"{_median(found, 'rss_one_mb'):>7.0f}{_median(found, 'rss_batch_mb'):>8.0f}  "
              f"{_lengths(r['long']):<42}{_lengths(r['short']):<34}{share * 100:>9.0f}%")
    print("x def: time against the default (below 1: faster). RSS: peak MB after loading, "
          "after the 1-caller briefing, after the batch (VmHWM, one process per variant). "
          "Lengths and repeated 3-grams: the last run's outputs (1 caller and batch).")
    print("Random weights write noise: output quality (and whether beams or the length "
          "penalty help it) cannot be judged here; lengths and 3-gram repeats only show "
          "that the settings are honoured.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="base", help="small, base or both (comma)")
    parser.add_argument("--batch", type=int, default=8, help="articles at once")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs of each variant")
    parser.add_argument("--variants", default="",
                        help="comma list of variant names to run (default: all); the "
                             "default always runs")
    parser.add_argument("--cap-tokens", type=int, default=0,
                        help="cap every prompt's min/max new tokens (0: the prompts' own)")
    parser.add_argument("--threads", type=int, default=0,
                        help="the default's intra_threads; 0: usable cores, as the service")
    parser.add_argument("--articles-file", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefing-bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    load_start = os.getloadavg()
    load_articles(args.articles_file, 1)  # fail early without the file
    specs = variants(args.threads)
    if args.variants:
        wanted = set(args.variants.split(","))
        unknown = wanted - set(specs)
        if unknown:
            sys.exit(f"unknown variants {sorted(unknown)}; known: {', '.join(specs)}")
        specs = {k: v for k, v in specs.items() if k == "default" or k in wanted}
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types("cpu")
    skipped = [k for k, v in specs.items() if v["compute_type"] not in supported]
    specs = {k: v for k, v in specs.items() if k not in skipped}
    if "default" not in specs:
        sys.exit(f"the default's compute type is not supported here: {sorted(supported)}")
    for shape in args.shapes.split(","):
        model = build_model(shape, args.workdir / f"flan-t5-{shape}-random", args.articles_file)
        data_dir = args.workdir / f"data-{shape}"  # bench/latency.py's: its int8 is reused
        conversions = convert(model, data_dir, {s["compute_type"] for s in specs.values()})
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in specs}
        for _ in range(args.repeats):  # interleaved, so a burst of load hits every variant
            for name, spec in specs.items():
                runs[name].append(run_child(spec, args, model, data_dir))
        print_table(shape, specs, runs, conversions, args)
        if skipped:
            print(f"skipped, this CPU's CTranslate2 build does not support them: "
                  f"{', '.join(skipped)} (supported: {', '.join(sorted(supported))})")
    print(f"\nload average (1, 5, 15 min) at start "
          f"{' '.join(f'{x:.2f}' for x in load_start)}, at end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
