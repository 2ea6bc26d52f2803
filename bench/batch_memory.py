"""Memory per batch size: what one CTranslate2 batch of 512-token prompts costs at 4 beams.

Run by hand, not in CI:

    .venv/bin/python bench/batch_memory.py [--shapes small,base] [--sizes 1,2,3,4,6,8]

For each shape (bench/latency.py's random-weight flan-t5 shapes, built and converted once in
--workdir) and each batch size, a fresh process loads the converted model as the service
does (int8, intra_threads = CPUs, inter_threads 1), notes its RSS, runs one
``translate_batch`` of ``size`` prompts of --tokens input tokens with --beams beams and
--decode forced output tokens, and reports the peak RSS over the loaded model: the encoder
states, the cross-attention cache (keys and values for every decoder layer, batch x beams x
input tokens x inner dim) and the decoder's self-attention cache. Each batch also reports
its seconds, so memory and speed per prompt read side by side.
BRIEFING_MAX_BATCH_TOKENS (input tokens x beams per batch) is chosen from these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def status_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (its peak) of this process, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(args: argparse.Namespace) -> None:
    import ctranslate2

    translator = ctranslate2.Translator(args.converted, device="cpu",
                                        compute_type=args.quantization,
                                        intra_threads=os.cpu_count() or 1, inter_threads=1)
    vocabulary = json.loads((Path(args.converted) / "shared_vocabulary.json").read_text())
    tokens = [vocabulary[i % (len(vocabulary) - 200) + 100] for i in range(args.tokens - 1)]
    prompt = [*tokens, "</s>"]
    # one warm-up of size 1 with 1 token, so allocator pools that any batch needs are in
    translator.translate_batch([prompt[:4]], beam_size=1, max_decoding_length=2)
    # the peak so far is the model load's: reset it, so the peak read next is the batch's
    Path("/proc/self/clear_refs").write_text("5")
    loaded = status_mb("VmRSS")
    started = time.perf_counter()
    translator.translate_batch([prompt] * args.size, beam_size=args.beams,
                               max_decoding_length=args.decode,
                               min_decoding_length=args.decode, max_batch_size=args.size)
    seconds = time.perf_counter() - started
    peak = status_mb("VmHWM")
    print(json.dumps({"loaded_mb": loaded, "peak_mb": peak, "over_mb": peak - loaded,
                      "seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="small,base")
    parser.add_argument("--sizes", default="1,2,3,4,6,8")
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--decode", type=int, default=24)
    parser.add_argument("--quantization", default="int8")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "briefing-bench")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--converted", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from latency import DEFAULT_ARTICLES, build_model

    from service.engines import ctranslate2_runtime
    from service.engines.seq2seq import directory_revision

    print(f"{args.tokens}-token prompts, {args.beams} beams, {args.decode} output tokens, "
          f"{args.quantization}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          f" on {os.cpu_count()} CPUs")
    for shape in args.shapes.split(","):
        model = build_model(shape, args.workdir / f"flan-t5-{shape}-random", DEFAULT_ARTICLES)
        target = ctranslate2_runtime.converted_dir(
            args.workdir / f"data-{shape}", directory_revision(model), args.quantization)
        ctranslate2_runtime.ensure_converted(model, target, args.quantization, timeout_s=1800)
        print(f"\n{shape}: {'batch':>5} {'tokens x beams':>15} {'over model MB':>14} "
              f"{'MB per prompt':>14} {'s per batch':>12} {'s per prompt':>13}")
        for size in [int(s) for s in args.sizes.split(",")]:
            done = subprocess.run(
                [sys.executable, __file__, "--child", "--converted", str(target),
                 "--size", str(size), "--tokens", str(args.tokens), "--beams", str(args.beams),
                 "--decode", str(args.decode), "--quantization", args.quantization],
                capture_output=True, text=True, check=True)
            found = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{'':>7}{size:>5} {size * args.tokens * args.beams:>15} "
                  f"{found['over_mb']:>14.0f} {found['over_mb'] / size:>14.1f} "
                  f"{found['seconds']:>12.2f} {found['seconds'] / size:>13.2f}"
                  f"   (model loaded: {found['loaded_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
