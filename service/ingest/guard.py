"""The address guard: no fetch goes where it does not belong (SSRF).

A URL may be fetched when it is ``http``/``https``, carries no credentials, uses port 80 or
443, and every address its host resolves to is globally routable. Refused: loopback,
private (RFC 1918, unique local), link-local (169.254.0.0/16, where cloud metadata lives,
and fe80::/10), shared address space (CGNAT, 100.64.0.0/10), multicast, reserved,
unspecified, and IPv6 forms that embed such an IPv4 address (mapped, 6to4, NAT64, Teredo).

``BRIEFING_FETCH_ALLOW_HOSTS`` names exceptions: ``host`` (any port, any address) or
``host:port`` (that port only), e.g. an intranet CMS, or ``127.0.0.1`` in the tests.

The URL is checked before each request (every redirect hop), and the addresses when the
connection is made (:class:`GuardedBackend`): the address vetted is the address connected,
resolved once, so a name that answers differently the second time (DNS rebinding) gains
nothing. TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import httpcore
import httpx

from service.config import parse_allow_entry
from service.errors import UrlNotAllowed
from service.storage.leases import Lease, LeaseStore

__all__ = [
    "AddressPolicy", "Deadline", "GuardedBackend", "HostTurns", "Resolver", "address_problem",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port, timeout -> the addresses to connect to, in order
Resolver = Callable[[str, int, float], list[str]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from, or None when it is globally routable."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            problem = address_problem(embedded)
            return f"{problem} (inside an IPv6 address)" if problem else None
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata lives there)"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared address space (CGNAT)"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class AddressPolicy:
    """Which URLs and addresses may be fetched (see the module docstring)."""

    def __init__(self, allow_hosts: Iterable[str] = ()) -> None:
        self._any_port: set[str] = set()
        self._ports: set[tuple[str, int]] = set()
        for entry in allow_hosts:
            if not entry.strip():
                continue
            host, port = parse_allow_entry(entry)
            if port is None:
                self._any_port.add(host)
            else:
                self._ports.add((host, port))

    def allowed(self, host: str, port: int) -> bool:
        """Is ``host:port`` listed in ``BRIEFING_FETCH_ALLOW_HOSTS``?"""
        host = _normal_host(host)
        return host in self._any_port or (host, port) in self._ports

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """The URL parsed, or :class:`UrlNotAllowed` saying what is wrong with it.

        Addresses are checked when connecting; an IP literal is checked here already.
        """
        shown = _shown(url)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise UrlNotAllowed(f"{shown} is not a valid URL: {exc}") from exc
        if parsed.scheme not in _DEFAULT_PORTS:
            raise UrlNotAllowed(
                f"{shown}: only http and https URLs are fetched, not {parsed.scheme or 'none'!r}"
            )
        if parsed.userinfo:
            raise UrlNotAllowed(f"{shown}: URLs with credentials (user:password@) are refused")
        host = parsed.host
        if not host:
            raise UrlNotAllowed(f"{shown}: the URL has no host")
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
        if self.allowed(host, port):
            return parsed
        if port not in (80, 443):
            raise UrlNotAllowed(
                f"{shown}: port {port} is refused (only 80 and 443); list the host in "
                "BRIEFING_FETCH_ALLOW_HOSTS as host:port to allow it"
            )
        try:
            literal = ipaddress.ip_address(_normal_host(host))
        except ValueError:
            return parsed
        self.check_addresses(host, [str(literal)])
        return parsed

    def check_addresses(self, host: str, addresses: list[str]) -> None:
        """Refuse the host when any address it resolved to is not globally routable.

        One bad address refuses them all: a name that also points inside is not trusted.
        """
        for text in addresses:
            problem = address_problem(ipaddress.ip_address(text.split("%", 1)[0]))
            if problem:
                raise UrlNotAllowed(
                    f"{_normal_host(host)} resolves to {text}, a {problem} address: fetching "
                    "it is refused (list the host in BRIEFING_FETCH_ALLOW_HOSTS to allow it)"
                )


def _shown(url: Any) -> str:
    """The URL for a message: cut, without credentials, never echoing a password."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = "…@" + rest.split("@", 1)[1]
        text = f"{scheme}://{rest}"
    return repr(text if len(text) <= 200 else text[:200] + "…")


class Deadline:
    """A point in ``time.monotonic()`` after which a fetch stops, whatever it is doing."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def cap(self, timeout: float | None) -> float:
        """``timeout`` shortened to the time left (never below a millisecond)."""
        left = max(self.remaining(), 0.001)
        return left if timeout is None else min(timeout, left)


# getaddrinfo cannot be interrupted: it runs here, and the fetch waits only as long as its
# deadline allows. A few threads suffice: resolutions are short or fail.
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


def system_resolver(host: str, port: int, timeout: float) -> list[str]:
    """The addresses of ``host`` from the system resolver, within ``timeout`` seconds."""
    future = _resolver_pool.submit(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g}s") from exc
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, resolving and vetting the host itself when it connects.

    The connection goes to an address that passed :meth:`AddressPolicy.check_addresses`;
    every read and write is bounded by the fetch's :class:`Deadline`.
    """

    def __init__(
        self, policy: AddressPolicy, deadline: Deadline, resolver: Resolver | None = None
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.resolver = resolver or system_resolver
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self.deadline.remaining() <= 0:
            raise httpcore.ConnectTimeout("the fetch ran out of time before connecting")
        addresses = self.resolver(host, port, self.deadline.cap(timeout))
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        if not self.policy.allowed(host, port):
            self.policy.check_addresses(host, addresses)
        error: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address, port, timeout=self.deadline.cap(timeout),
                    local_address=local_address, socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self.deadline)
        assert error is not None
        raise error

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self.deadline.remaining(), 0)))


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._deadline.remaining() <= 0:
            raise httpcore.ReadTimeout("the fetch ran out of time")
        return self._inner.read(max_bytes, self._deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._deadline.remaining() <= 0:
            raise httpcore.WriteTimeout("the fetch ran out of time")
        self._inner.write(buffer, self._deadline.cap(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._deadline.cap(timeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class HostTurns:
    """Politeness: one request at a time per host across every thread, process and replica
    sharing ``leases`` (Redis when configured, else the database), and ``interval_s``
    between the end of one request and the start of the next.

    A turn is the lease ``host:<host>``; giving it back keeps the name taken, with no owner,
    for ``interval_s`` (the pause). Threads of one process queue on a local lock first, so
    only one of them asks the shared store at a time.
    """

    def __init__(self, leases: LeaseStore, *, interval_s: float, ttl_s: float) -> None:
        self.leases = leases
        self.interval_s = interval_s
        self.ttl_s = ttl_s  # a request outliving its fetch deadline: the turn ends anyway
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def take(self, host: str, deadline: Deadline) -> Lease | None:
        """This process's turn at ``host`` once it is free, or None at the deadline."""
        host = _normal_host(host)
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        if not lock.acquire(timeout=max(deadline.remaining(), 0)):
            return None
        turn = Lease.wait(self.leases, f"host:{host}", ttl_s=self.ttl_s, until=deadline.at)
        if turn is None:
            lock.release()
        return turn

    def give_back(self, turn: Lease) -> None:
        """The request is done: the next one waits ``interval_s``."""
        try:
            turn.release(hold_s=self.interval_s)
        finally:
            host = turn.name.removeprefix("host:")
            with self._guard:
                lock = self._locks[host]
            lock.release()
