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
import struct
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from service.preprocess.html import extract_text, looks_like_html
from service.words import WORD

# Bump when anything below changes what a fingerprint is (tokens, shingles, permutations, or
# which text of an article is fingerprinted: "-main" = a page's main text, not its markup;
# "-uw" = words with their combining marks, service.words).
FINGERPRINT_VERSION = "mh2-w2-256-main-uw"
SHINGLE_WORDS = 2
NUM_PERM = 256  # estimate noise near the threshold: sd ~0.025 (0.035 at 128)
_SEED = 1
MAX_WORDS = 20_000  # words of a text that count (the rest is the same story anyway)
_BATCH = 2_048  # shingles hashed at once (bounds the temporary arrays to ~4 MB)
_HEADER = struct.Struct("<HI")  # num_perm, distinct shingles
_WORD = WORD


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
    # Imported here, not with the module: datasketch's package imports scipy (~0.3 s of every
    # start, before /readyz), and only the digest reads fingerprints.
    from datasketch import MinHash

    grams = sorted(shingles(text, shingle_words))
    minhash = MinHash(num_perm=num_perm, seed=_SEED)
    # update_batch builds a (shingles x permutations) array: feed it in slices.
    for start in range(0, len(grams), _BATCH):
        minhash.update_batch([g.encode("utf-8") for g in grams[start : start + _BATCH]])
    return Fingerprint(np.asarray(minhash.hashvalues, dtype=np.uint32), len(grams))


def article_fingerprint(text: str) -> Fingerprint:
    """The fingerprint of what an article says: for a page sent as HTML, its main text.

    Markup, navigation and scripts are shared by every page of one site; fingerprinted raw,
    two unrelated stories from one outlet would look like one story.
    """
    return fingerprint(extract_text(text) if looks_like_html(text) else text)


class ArticleFingerprints:
    """Article fingerprints as the article store keeps them
    (:class:`service.storage.articles.Fingerprints`): computed and read by the digest."""

    version = FINGERPRINT_VERSION

    def compute(self, text: str) -> bytes:
        return article_fingerprint(text).to_bytes()

    def load(self, stored: bytes) -> Fingerprint:
        return Fingerprint.from_bytes(stored)


ARTICLES = ArticleFingerprints()


def similar_pairs(prints: Sequence[Fingerprint], threshold: float) -> Iterator[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, whose estimated similarity is >= ``threshold``.

    Every pair is compared, one fingerprint against all later ones at a time, so memory is
    the signatures (1 KB each) plus one row of comparisons, never an n x n matrix (which took
    1 GB at 10,000 articles). Measured at 10,000 articles a day (bench/digest_scale.py):
    18 MB and 16 s of CPU, with exactly the pairs the matrix found; LSH candidates (banded
    with datasketch's MinHashLSH or with numpy sorts) were slower and needed 10-18 times the
    memory at this threshold, as 2-row bands (needed to find pairs at 0.2) also pair ~5% of
    unrelated articles.
    """
    live = [i for i, p in enumerate(prints) if p.size > 0]
    if len(live) < 2:
        return
    sigs = np.stack([prints[i].signature for i in live])
    need = threshold * sigs.shape[1]
    for row in range(len(live) - 1):
        same = np.count_nonzero(sigs[row + 1:] == sigs[row], axis=1)
        for other in np.flatnonzero(same >= need):
            yield live[row], live[row + 1 + int(other)]


__all__ = [
    "ARTICLES",
    "FINGERPRINT_VERSION",
    "ArticleFingerprints",
    "Fingerprint",
    "fingerprint",
    "shingles",
    "similar_pairs",
    "words",
]
