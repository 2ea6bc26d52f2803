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
from service.storage.articles import StoredArticle

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


UNNAMED = "unnamed"  # the one source key of every article that names no publisher


def _name(text: str | None) -> str | None:
    """A publisher's name as given, whitespace collapsed; None when blank."""
    name = " ".join((text or "").split())
    return name or None


def _domain(stored: StoredArticle) -> str | None:
    """The registered domain of the article's URL (else its canonical URL's)."""
    for url in (stored.article.url, stored.article.canonical_url):
        if not url:
            continue
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            host = ""
        if host:
            return registered_domain(host)
    return None


def source_name(stored: StoredArticle) -> str | None:
    """Who published it, as a reader knows them: the given source, else the page's site name,
    else the URL's registered domain; None when the article says none of these."""
    article = stored.article
    return _name(article.source) or _name(article.site_name) or _domain(stored)


def source_key(stored: StoredArticle) -> str:
    """Who published it, as a key: the source or site name (case-insensitive; the same name
    is the same publisher either way), else the URL's registered domain, else
    :data:`UNNAMED`: every article without a publisher is one unnamed source together."""
    article = stored.article
    name = _name(article.source) or _name(article.site_name)
    if name:
        return "name:" + name.casefold()
    domain = _domain(stored)
    return "site:" + domain if domain else UNNAMED


def publishers(group: Sequence[StoredArticle]) -> tuple[int, list[str]]:
    """A story's distinct sources: (how many, the names of the named ones). Articles without
    a publisher count as one source together, which has no name; each named publisher is
    shown as its first article names it, sorted case-insensitively."""
    names: dict[str, str] = {}
    unnamed = False
    for stored in group:
        key = source_key(stored)
        if key == UNNAMED:
            unnamed = True
        else:
            names.setdefault(key, source_name(stored) or key)
    shown = sorted(names.values(), key=lambda n: (n.casefold(), n))
    return len(shown) + int(unnamed), shown
