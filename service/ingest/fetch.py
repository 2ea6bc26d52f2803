"""Fetching a URL behind the address guard, within time and size limits.

``Fetcher.fetch(url)`` is the one way the service reads the web (pages briefed by URL,
feeds, their entries' pages):

  1. check the URL (scheme, credentials, port; :class:`~service.ingest.guard.AddressPolicy`)
  2. connect to an address the guard vetted (:class:`~service.ingest.guard.GuardedBackend`)
  3. follow at most ``MAX_REDIRECTS`` redirects, checking each hop as in 1 and 2
  4. refuse what is not the expected content (415 ``unsupported_content``) before reading
  5. read and decompress the body itself, stopping at ``BRIEFING_FETCH_MAX_BYTES`` of
     *decompressed* bytes: a gzip bomb costs at most the limit in memory (413 ``too_large``)

All of it within ``BRIEFING_FETCH_TIMEOUT_S``: the connect timeout, and a deadline that
bounds name resolution, every read and write and the waits for a host's lock (504
``fetch_timeout``). An error status from the site is 502 ``fetch_failed`` with the
site's status and its Retry-After.
"""

from __future__ import annotations

import logging
import ssl
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import certifi
import httpcore
import httpx

from service.config import Settings
from service.errors import (
    BriefingError,
    ContentTooLarge,
    FetchFailed,
    FetchTimeout,
    UnsupportedContent,
)
from service.ingest.guard import AddressPolicy, Deadline, GuardedBackend, HostTurns, Resolver
from service.preprocess.html import decode_html
from service.retry_after import retry_after

__all__ = ["MAX_REDIRECTS", "Fetched", "Fetcher", "FetchKind"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
FetchKind = Literal["page", "feed"]

# What each kind of fetch reads. A feed fetch also takes HTML and plain text, so that "this
# is a web page, not a feed" can be reported as such by the feed parser.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
FEED_TYPES = PAGE_TYPES | {
    "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    "application/x-rss+xml", "application/xml", "text/xml", "application/feed+json",
    "application/json",
}
_ACCEPT = {
    "page": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8",
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1",
}
_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)  # the resource has moved for good: ask the new URL next time


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back: the final URL, the status (200-ish or 304) and the body."""

    url: str
    status: int
    media_type: str
    charset: str | None
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    redirects: tuple[str, ...] = ()
    moved_permanently: bool = False  # redirected, and every redirect was 301 or 308

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body as text, decoded as a browser would (:func:`decode_html`: a BOM, the
        declared charset, a ``<meta charset>``, UTF-8, windows-1252); a declared charset
        that does not fit the bytes is ignored rather than failing the fetch."""
        try:
            return decode_html(self.body, self.charset)
        except (LookupError, UnicodeDecodeError):
            return decode_html(self.body, None)


class Fetcher:
    """Fetches URLs under one policy; safe to share between threads."""

    def __init__(
        self, *, policy: AddressPolicy, timeout_s: float, max_bytes: int, user_agent: str,
        resolver: Resolver | None = None, host_turns: HostTurns | None = None,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.resolver = resolver
        self.host_turns = host_turns
        self._on_outcome = on_outcome
        self._ssl = ssl.create_default_context(cafile=certifi.where())

    @classmethod
    def from_settings(
        cls, settings: Settings, *, resolver: Resolver | None = None,
        host_turns: HostTurns | None = None, on_outcome: Callable[[str], None] | None = None,
    ) -> Fetcher:
        return cls(
            policy=AddressPolicy(settings.fetch_allow_host_list),
            timeout_s=settings.fetch_timeout_s, max_bytes=settings.fetch_max_bytes,
            user_agent=settings.fetch_user_agent, resolver=resolver, host_turns=host_turns,
            on_outcome=on_outcome,
        )

    def fetch(
        self, url: str, *, kind: FetchKind = "page", headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET ``url`` (see the module docstring); ``headers`` may make it conditional.

        Raises UrlNotAllowed, FetchFailed, FetchTimeout, ContentTooLarge or
        UnsupportedContent; a 304 answer is returned (``not_modified``), not raised.
        """
        deadline = Deadline(self.timeout_s)
        try:
            fetched = self._fetch(url, kind, dict(headers or {}), deadline)
        except BriefingError as exc:
            self._count(exc.code)
            raise
        self._count("not_modified" if fetched.not_modified else "ok")
        return fetched

    def _count(self, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    def _client(self, backend: GuardedBackend) -> httpx.Client:
        transport = httpx.HTTPTransport(verify=self._ssl, trust_env=False)
        # httpx builds its httpcore pool without a way to pass the network backend: the
        # pool is replaced by one that connects through the guard (same settings otherwise).
        transport._pool = httpcore.ConnectionPool(
            ssl_context=self._ssl, max_connections=4, network_backend=backend,
        )
        return httpx.Client(
            transport=transport, trust_env=False, follow_redirects=False,
            timeout=httpx.Timeout(self.timeout_s), headers={"User-Agent": self.user_agent},
        )

    def _fetch(
        self, url: str, kind: FetchKind, headers: dict[str, str], deadline: Deadline
    ) -> Fetched:
        current = self.policy.check_url(url)
        headers.setdefault("Accept", _ACCEPT[kind])
        # Only what _Decoder reads: a server must not send br or zstd we cannot bound.
        headers["Accept-Encoding"] = "gzip, deflate"
        backend = GuardedBackend(self.policy, deadline, self.resolver)
        redirects: list[str] = []
        permanent = True
        with self._client(backend) as client:
            while True:
                turn = None
                if self.host_turns is not None:
                    turn = self.host_turns.take(current.host, deadline)
                    if turn is None:
                        raise FetchTimeout(self._too_slow(current, deadline))
                try:
                    answer = self._hop(client, current, kind, headers, deadline)
                finally:
                    if turn is not None:
                        self.host_turns.give_back(turn)
                if isinstance(answer, Fetched):
                    return Fetched(
                        url=answer.url, status=answer.status, media_type=answer.media_type,
                        charset=answer.charset, body=answer.body, headers=answer.headers,
                        redirects=tuple(redirects),
                        moved_permanently=bool(redirects) and permanent,
                    )
                if len(redirects) >= MAX_REDIRECTS:
                    raise FetchFailed(
                        f"{url} redirects more than {MAX_REDIRECTS} times; fetch the page "
                        "it ends at instead"
                    )
                target, status = answer
                permanent = permanent and status in _PERMANENT
                current = self.policy.check_url(target)
                redirects.append(str(current))

    def _too_slow(self, url: httpx.URL, deadline: Deadline) -> str:
        return (f"fetching {url} took longer than {deadline.seconds:g}s "
                "(BRIEFING_FETCH_TIMEOUT_S)")

    def _hop(
        self, client: httpx.Client, url: httpx.URL, kind: FetchKind, headers: dict[str, str],
        deadline: Deadline,
    ) -> Fetched | tuple[httpx.URL, int]:
        """One request: the fetched body, or the URL a redirect points to and its status."""
        try:
            response = client.send(client.build_request("GET", url, headers=headers),
                                   stream=True)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(self._too_slow(url, deadline)) from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"could not fetch {url}: {exc or type(exc).__name__}") from exc
        try:
            status = response.status_code
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                try:
                    return url.join(location.strip()), status
                except httpx.InvalidURL as exc:
                    raise FetchFailed(f"{url} redirects to an invalid URL") from exc
            if status == 304:
                return Fetched(str(url), 304, "", None, b"", httpx.Headers(response.headers))
            if not 200 <= status < 300:
                raise FetchFailed(
                    f"{url} answered HTTP {status}", upstream_status=status,
                    retry_after_s=retry_after(response.headers.get("retry-after")),
                )
            media_type, charset = _content_type(response.headers.get("content-type"))
            allowed = PAGE_TYPES if kind == "page" else FEED_TYPES
            if media_type and media_type not in allowed and not (
                kind == "feed" and media_type.endswith(("+xml", "+json"))
            ):
                raise UnsupportedContent(
                    f"{url} is {media_type}, not "
                    + ("an HTML, XHTML or plain-text page" if kind == "page" else "a feed")
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise ContentTooLarge(self._too_large(url, f"{declared} bytes"))
            try:
                body = self._read(response, url)
            except httpx.TimeoutException as exc:
                raise FetchTimeout(self._too_slow(url, deadline)) from exc
            except httpx.HTTPError as exc:
                raise FetchFailed(f"reading {url} failed: {exc or type(exc).__name__}") from exc
            return Fetched(
                str(url), status, media_type, charset, body, httpx.Headers(response.headers)
            )
        finally:
            response.close()

    def _too_large(self, url: httpx.URL, size: str) -> str:
        return (f"{url} is {size}, more than the {self.max_bytes} bytes read "
                "(BRIEFING_FETCH_MAX_BYTES)")

    def _read(self, response: httpx.Response, url: httpx.URL) -> bytes:
        """The body, decompressed here (never by httpx) so no step exceeds the limit."""
        decoders = _decoders(response.headers.get("content-encoding", ""), url)
        limit = self.max_bytes
        body = bytearray()
        for chunk in response.iter_raw():
            data = chunk
            for decoder in decoders:
                data = decoder.feed(data, limit - len(body) + 1)
            body += data
            if len(body) > limit:
                raise ContentTooLarge(self._too_large(url, "larger"))
        for index, decoder in enumerate(decoders):  # what is left in each decoder
            data = decoder.flush(limit - len(body) + 1)
            for later in decoders[index + 1:]:
                data = later.feed(data, limit - len(body) + 1)
            body += data
            if len(body) > limit:
                raise ContentTooLarge(self._too_large(url, "larger"))
        return bytes(body)


class _Decoder:
    """gzip or deflate, producing at most ``max_out`` bytes per call (zlib's max_length)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: header and trailer; deflate: zlib-wrapped, or raw as some servers send it.
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, max_out: int) -> bytes:
        data = self._z.unconsumed_tail + data
        try:
            out = self._z.decompress(data, max(max_out, 1))
        except zlib.error as exc:
            if self.encoding == "deflate" and not self._started:
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                return self.feed(data, max_out)
            raise FetchFailed(f"the {self.encoding} body is corrupt: {exc}") from exc
        self._started = True
        return out

    def flush(self, max_out: int) -> bytes:
        out = self.feed(b"", max_out) if self._z.unconsumed_tail else b""
        return out + self._z.flush()[: max(max_out - len(out), 0)]


def _decoders(header: str, url: httpx.URL) -> list[_Decoder]:
    """Decoders in the order they undo the encodings (the last applied comes first)."""
    names = [n.strip().lower() for n in header.split(",") if n.strip()]
    decoders = []
    for name in reversed(names):
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise FetchFailed(f"{url} sent a body encoded as {name!r}, which was not asked for")
        decoders.append(_Decoder(name))
    return decoders


def _content_type(header: str | None) -> tuple[str, str | None]:
    media, _, params = (header or "").partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset
