"""Stage 3 of the digest: articles grouped into stories.

Identical texts, and texts whose MinHash similarity (:mod:`service.digest.fingerprint`)
reaches the threshold, are one story (single linkage). Pairs are compared one fingerprint
at a time (no n x n matrix), so memory grows with the day's articles, not with their square.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from urllib.parse import urlsplit

import numpy as np

from service.digest.fingerprint import NUM_PERM, Fingerprint, similar_pairs
from service.sites import registered_domain
from service.store import StoredArticle

# Measured with bench/digest_clustering.py (2-word shingles, 256 permutations, all 510 eval
# articles): at 0.20 recall 0.969 and no different-story pair merged; the closest
# different-story pair scores 0.176. Settings.digest_similarity defaults to this.
SIMILARITY_THRESHOLD = 0.20
_EMPTY = Fingerprint(np.zeros(NUM_PERM, dtype=np.uint32), 0)


def linked_groups(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """For each of ``n`` items, the smallest index in its group, where each pair puts its two
    items in one group (single linkage: a union-find over the pairs)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(n)]


def cluster(articles: Sequence[StoredArticle], threshold: float) -> list[list[StoredArticle]]:
    """Group articles by story: same text, or fingerprint similarity >= ``threshold``.

    Single linkage (a union-find over the qualifying pairs): an article joins a story when it
    is close to any of its articles. Groups keep the input order, and so do their members.
    """
    first_with_text: dict[str, int] = {}
    same_text = ((i, first_with_text.setdefault(stored.content_hash, i))
                 for i, stored in enumerate(articles))
    similar = similar_pairs([a.fingerprint or _EMPTY for a in articles], threshold)
    groups: dict[int, list[StoredArticle]] = {}
    for stored, group in zip(articles, linked_groups(len(articles), chain(same_text, similar)),
                             strict=True):
        groups.setdefault(group, []).append(stored)
    return list(groups.values())


def source_key(stored: StoredArticle) -> str:
    """Who published it: the given source, else the URL's registered domain, else the text
    itself."""
    article = stored.article
    if article.source and article.source.strip():
        return "source:" + " ".join(article.source.split()).casefold()
    if article.url:
        try:
            host = urlsplit(article.url.strip()).hostname or ""
        except ValueError:
            host = ""
        if host:
            return "site:" + registered_domain(host)
    return "text:" + stored.content_hash
