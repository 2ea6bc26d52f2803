"""Which site a host belongs to: its registered domain, by the Public Suffix List.

The digest counts a publisher once (``edition.cnn.com`` and ``rss.cnn.com`` are one), and
page extraction tells a link to another page of the same site (a related-story teaser)
from a link to somewhere else.
"""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList

__all__ = ["registered_domain"]


@cache
def _suffixes() -> PublicSuffixList:
    # The Public Suffix List as shipped inside the publicsuffixlist package: nothing is
    # fetched, at start or ever (an update is a new package version).
    return PublicSuffixList()


@lru_cache(maxsize=4096)  # a page asks it of every link; a day's articles, of few hosts
def registered_domain(host: str) -> str:
    """The domain a publisher registered: ``edition.cnn.com`` and ``rss.cnn.com`` are both
    ``cnn.com``, ``news.bbc.co.uk`` is ``bbc.co.uk``, ``a.github.io`` stays itself (a
    private suffix). IP addresses and names without a suffix are returned as they are."""
    host = host.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")  # one spelling for Unicode names
    except UnicodeError:
        pass
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return _suffixes().privatesuffix(host) or host
