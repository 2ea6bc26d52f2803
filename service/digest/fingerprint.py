"""Near-duplicate fingerprints of article text: MinHash over word shingles.

The daily digest groups articles by story: the same story reworded or reordered by another
outlet must land in one group. Exact hashes miss that; a MinHash signature of the text's word
shingles estimates the Jaccard similarity of two texts from 256 small integers, so a day's
articles can be compared pairwise cheaply, and the signature can be stored with the article.

``fingerprint(text)`` -> :class:`Fingerprint` (signature + number of distinct shingles);
``Fingerprint.similarity(other)`` -> estimated Jaccard similarity in 0..1.
``to_bytes``/``from_bytes`` give the stored form; ``FINGERPRINT_VERSION`` is stored beside
it, so a change of tokenization or shingle size recomputes old fingerprints instead of
comparing incompatible ones.

Shingle size and the threshold used for clustering were measured with
``bench/digest_clustering.py`` (see ``service.digest.stories.SIMILARITY_THRESHOLD``).
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash

# Bump when anything below changes what a fingerprint is (tokens, shingles, permutations).
FINGERPRINT_VERSION = "mh2-w2-256"
SHINGLE_WORDS = 2
NUM_PERM = 256  # estimate noise near the threshold: sd ~0.025 (0.035 at 128)
_SEED = 1
MAX_WORDS = 20_000  # words of a text that count (the rest is the same story anyway)
_BATCH = 2_048  # shingles hashed at once (bounds the temporary arrays to ~4 MB)
_HEADER = struct.Struct("<HI")  # num_perm, distinct shingles
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (NFKC, case-folded; punctuation and spacing ignored)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _leading_words(text: str) -> list[str]:
    found = []
    for match in _WORD.finditer(unicodedata.normalize("NFKC", text).casefold()):
        found.append(match.group())
        if len(found) == MAX_WORDS:
            break
    return found


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """The distinct runs of ``size`` consecutive words of the first ``MAX_WORDS`` words;
    a shorter text is one shingle."""
    tokens = _leading_words(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """A MinHash signature and the number of distinct shingles it was made from."""

    signature: np.ndarray = field(repr=False)  # NUM_PERM unsigned 32-bit values
    size: int

    def __repr__(self) -> str:
        return f"Fingerprint({self.hex()}, size={self.size})"

    def similarity(self, other: Fingerprint) -> float:
        """Estimated Jaccard similarity of the two shingle sets (0 when either is empty)."""
        if self.size == 0 or other.size == 0:
            return 0.0
        return float(np.count_nonzero(self.signature == other.signature)) / len(self.signature)

    def to_bytes(self) -> bytes:
        return _HEADER.pack(len(self.signature), self.size) + self.signature.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        num_perm, size = _HEADER.unpack_from(data)
        signature = np.frombuffer(data, dtype="<u4", count=num_perm, offset=_HEADER.size)
        return cls(signature.astype(np.uint32), size)

    def hex(self) -> str:
        """A short, stable digest of the signature (for logs and golden-value tests)."""
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]


def fingerprint(
    text: str, *, shingle_words: int = SHINGLE_WORDS, num_perm: int = NUM_PERM
) -> Fingerprint:
    """The MinHash fingerprint of ``text`` (deterministic across processes and machines).

    Only the first ``MAX_WORDS`` words count: a story is recognisable long before that, and
    it bounds the work the request path spends here on a megabyte-sized body.
    """
    grams = sorted(shingles(text, shingle_words))
    minhash = MinHash(num_perm=num_perm, seed=_SEED)
    # update_batch builds a (shingles x permutations) array: feed it in slices.
    for start in range(0, len(grams), _BATCH):
        minhash.update_batch([g.encode("utf-8") for g in grams[start : start + _BATCH]])
    return Fingerprint(np.asarray(minhash.hashvalues, dtype=np.uint32), len(grams))


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


# LSH banding for similar_pairs: 128 bands of 2 rows. A pair at similarity s shares a band
# (becomes a candidate) with probability 1 - (1 - s^2)^128: 0.995 at 0.20, 0.945 at 0.15,
# 0.72 at 0.10, so pairs at the threshold are found, and most unrelated pairs (s ~ 0.01)
# are never compared. Measured at 10,000 articles a day in bench/digest_scale.py.
LSH_BANDS, LSH_ROWS = 128, 2  # two rows: a band is one 64-bit key
_CHECK_CHUNK = 65_536  # candidate pairs checked at once (bounds the temporary arrays)


def similar_pairs(prints: Sequence[Fingerprint], threshold: float) -> Iterator[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, whose estimated similarity is >= ``threshold``.

    Memory grows with the articles and the candidate pairs, not with their square: the
    candidates are pairs that agree on all rows of at least one LSH band (found by sorting
    each band's values), then each is checked exactly against the signatures. An n x n
    similarity matrix took 1 GB at 10,000 articles; this takes tens of MB and seconds
    (bench/digest_scale.py, which also measured datasketch's MinHashLSH: several times the
    memory and slower, as it keeps a Python set per bucket).
    """
    live = np.array([i for i, p in enumerate(prints) if p.size > 0], dtype=np.int64)
    if live.size < 2:
        return
    sigs = np.stack([prints[i].signature for i in live])
    n, perms = sigs.shape
    candidates = np.empty(0, dtype=np.int64)  # pairs as i * n + j, sorted, each once
    for band in range(min(LSH_BANDS, perms // LSH_ROWS)):
        # A band's two 32-bit values are one 64-bit key: equal keys, equal band.
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
        # Merged band by band: memory stays at the distinct candidates, not 128 copies.
        candidates = np.unique(np.concatenate(found))
    need = threshold * perms
    for chunk in range(0, candidates.size, _CHECK_CHUNK):
        part = candidates[chunk:chunk + _CHECK_CHUNK]
        left, right = part // n, part % n
        same = np.count_nonzero(sigs[left] == sigs[right], axis=1)
        for i, j in zip(left[same >= need], right[same >= need], strict=True):
            yield int(live[i]), int(live[j])


__all__ = [
    "FINGERPRINT_VERSION",
    "Fingerprint",
    "fingerprint",
    "shingles",
    "similar_pairs",
    "similarity_matrix",
    "words",
]
