"""Digest clustering at scale: 10,000 articles a day in bounded memory.

Run by hand: ``.venv/bin/python bench/digest_scale.py [--n 10000] [--no-matrix]`` (a few
minutes; most of it fingerprinting). Needs the evaluation data (``bench/evaldata.py``).

1. Build ``--n`` articles: the eval set's news articles, each followed by variants of it
   (reordered, reworded, rewritten with a sentence of another story, excerpt; as in
   bench/digest_clustering.py) until there are ``n``: a day with many stories of several
   articles each. The story each article came from is the ground truth.
2. Fingerprint them as the service does (``service.digest.fingerprint``).
3. Find the similar pairs several ways, each with its peak traced memory and time:
   - matrix: the n x n similarity matrix the digest used before (skip with --no-matrix);
   - rows (service): ``similar_pairs``, every pair compared one fingerprint at a time
     (exact, memory linear in n);
   - datasketch lsh (with --datasketch): MinHashLSH, 128 bands of 2 rows;
   - lsh bands: the same banding with numpy sorts; candidates checked exactly.
   Time (wall and this process's CPU: on a shared machine CPU time is the steadier figure)
   is measured in a plain run, memory in a second run under tracemalloc.
4. Report: pairs found by LSH vs the exact pairs (recall; precision is 1 by construction),
   and the groups' pair precision and recall against the ground truth.

Measured (9,690 articles, busy 2-core machine): matrix 1,033 MB; rows 17.6 MB, 15.8 s CPU;
datasketch 318 MB; lsh bands 175 MB, 28.9 s CPU, recall 0.9999. So the service compares rows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.digest_clustering import load_articles, variants  # noqa: E402
from service.digest.fingerprint import (  # noqa: E402
    fingerprint,
    similar_pairs,
    words,
)
from service.digest.stories import SIMILARITY_THRESHOLD, linked_groups  # noqa: E402
from tests.similarity import similarity_matrix  # noqa: E402


def measured(label: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` twice: timed alone, then under tracemalloc for its peak memory (tracing
    slows Python-heavy code a lot, so the time is not taken then)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<16} {seconds:8.2f} s wall {cpu:8.2f} s CPU   peak memory "
          f"{peak / 1e6:9.1f} MB")
    return result


def datasketch_pairs(prints: list[Any], threshold: float) -> set[tuple[int, int]]:
    """The same banding with datasketch's MinHashLSH (measured, not used by the service)."""
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=256, params=(LSH_BANDS, LSH_ROWS))
    hashes = [LeanMinHash(seed=1, hashvalues=p.signature, scheme="affine32") for p in prints]
    for i, h in enumerate(hashes):
        lsh.insert(i, h, check_duplication=False)
    sigs = np.stack([p.signature for p in prints])
    found = set()
    for i, h in enumerate(hashes):
        later = np.array(sorted(c for c in lsh.query(h) if c > i), dtype=np.int64)
        if later.size:
            same = np.count_nonzero(sigs[later] == sigs[i], axis=1)
            found.update((i, int(j)) for j in later[same >= threshold * 256])
    return found


def matrix_pairs(prints: list[Any], threshold: float) -> set[tuple[int, int]]:
    sims = similarity_matrix(prints)
    found = np.nonzero(np.triu(sims >= threshold, k=1))
    return {(int(i), int(j)) for i, j in zip(*found, strict=True)}


# LSH banding, measured as alternatives: 128 bands of 2 rows. A pair at similarity s shares a
# band with probability 1 - (1 - s^2)^128: 0.995 at 0.20, so pairs at the threshold are found;
# but unrelated articles (s ~ 0.02) share one ~5% of the time, so the candidates are many.
LSH_BANDS, LSH_ROWS = 128, 2


def band_pairs(prints: list[Any], threshold: float) -> set[tuple[int, int]]:
    """LSH candidates by sorting each band's 64-bit keys (numpy), each checked exactly."""
    sigs = np.stack([p.signature for p in prints])
    n, perms = sigs.shape
    candidates = np.empty(0, dtype=np.int64)  # pairs as i * n + j, each once
    for band in range(LSH_BANDS):
        key = (sigs[:, 2 * band].astype(np.uint64) << np.uint64(32)) | sigs[:, 2 * band + 1]
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        lengths = np.diff(np.r_[starts, n])
        found = [candidates]
        for start, length in zip(starts[lengths > 1], lengths[lengths > 1], strict=True):
            members = np.sort(order[start:start + length])
            first, second = np.triu_indices(int(length), k=1)
            found.append(members[first] * n + members[second])
        candidates = np.unique(np.concatenate(found))
    pairs = set()
    for chunk in range(0, candidates.size, 65_536):
        part = candidates[chunk:chunk + 65_536]
        left, right = part // n, part % n
        same = np.count_nonzero(sigs[left] == sigs[right], axis=1)
        keep = (same >= threshold * perms) & np.array([prints[i].size > 0 for i in left])
        pairs.update(zip(left[keep].tolist(), right[keep].tolist(), strict=True))
    print(f"  (band candidates: {candidates.size})")
    return pairs


def pair_scores(labels: list[int], truth: list[int]) -> tuple[float, float]:
    """Precision and recall of "same group" over all article pairs, against the truth."""
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(labels):
        by_group.setdefault(g, []).append(i)
    predicted = {p for members in by_group.values() for p in combinations(members, 2)}
    by_story: dict[int, list[int]] = {}
    for i, s in enumerate(truth):
        by_story.setdefault(s, []).append(i)
    actual = {p for members in by_story.values() for p in combinations(members, 2)}
    hit = len(predicted & actual)
    return hit / max(1, len(predicted)), hit / max(1, len(actual))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="articles in the day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-matrix", action="store_true", help="skip the n x n baseline")
    parser.add_argument("--datasketch", action="store_true",
                        help="also measure datasketch's MinHashLSH (128 bands of 2 rows)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = load_articles(0, args.seed)
    base = [r["article"] for r in rows]
    vocabulary = sorted({w for t in base for w in words(t)})
    texts: list[str] = []
    truth: list[int] = []
    per_story = max(1, args.n // len(base))
    for story, text in enumerate(base):
        made = [text]
        while len(made) < per_story:
            other = base[rng.randrange(len(base))]
            made.extend(variants(text, other, vocabulary, rng).values())
        texts.extend(made[:per_story])
        truth.extend([story] * len(made[:per_story]))
    texts, truth = texts[: args.n], truth[: args.n]
    print(f"{len(texts)} articles, {len(set(truth))} stories (~{per_story} articles each), "
          f"threshold {SIMILARITY_THRESHOLD}")
    started = time.perf_counter()
    prints = [fingerprint(t) for t in texts]
    print(f"fingerprints: {time.perf_counter() - started:.1f} s "
          f"({(time.perf_counter() - started) / len(texts) * 1000:.1f} ms each)")

    print("similar pairs:")
    if not args.no_matrix:
        measured("matrix", lambda: matrix_pairs(prints, SIMILARITY_THRESHOLD))
    exact = measured("rows (service)",
                     lambda: set(similar_pairs(prints, SIMILARITY_THRESHOLD)))
    if args.datasketch:
        measured("datasketch lsh", lambda: datasketch_pairs(prints, SIMILARITY_THRESHOLD))
    lsh = measured("lsh bands", lambda: band_pairs(prints, SIMILARITY_THRESHOLD))
    print(f"pairs: exact {len(exact)}, lsh {len(lsh)}; lsh recall "
          f"{len(lsh & exact) / max(1, len(exact)):.4f}, false pairs {len(lsh - exact)}")
    exact_groups, lsh_groups = linked_groups(len(prints), exact), linked_groups(len(prints), lsh)
    same = sum(
        1 for i in range(len(prints))
        if {j for j, g in enumerate(exact_groups) if g == exact_groups[i]}
        == {j for j, g in enumerate(lsh_groups) if g == lsh_groups[i]}
    ) if len(prints) <= 2000 else None
    if same is not None:
        print(f"articles whose story group is identical under both: {same}/{len(prints)}")
    print(f"story groups: exact {len(set(exact_groups))}, lsh {len(set(lsh_groups))}")
    for label, labels in (("exact", exact_groups), ("lsh", lsh_groups)):
        precision, recall = pair_scores(labels, truth)
        print(f"  {label:<6} same-story pairs vs truth: precision {precision:.4f} "
              f"recall {recall:.4f}")


if __name__ == "__main__":
    main()
