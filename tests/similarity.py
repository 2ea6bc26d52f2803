"""Reference similarities the tests and benches hold the service's against: exact Jaccard of
two shingle sets (the dedup stage's containment is checked beside it), and every pair of a
day's fingerprints at once (the digest compares them one row at a time)."""

from __future__ import annotations

import numpy as np

from service.digest.fingerprint import Fingerprint
from service.preprocess.dedup import Shingle


def jaccard(a: frozenset[Shingle], b: frozenset[Shingle]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def similarity_matrix(prints: list[Fingerprint]) -> np.ndarray:
    """Pairwise estimated Jaccard similarities (n x n, diagonal 1 for non-empty texts)."""
    if not prints:
        return np.zeros((0, 0))
    sigs = np.stack([p.signature for p in prints])
    sizes = np.array([p.size for p in prints])
    sims = np.empty((len(prints), len(prints)))
    for i in range(len(prints)):
        sims[i] = np.count_nonzero(sigs == sigs[i], axis=1) / sigs.shape[1]
    empty = sizes == 0
    sims[empty, :] = 0.0
    sims[:, empty] = 0.0
    return sims
