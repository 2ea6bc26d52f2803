"""Fetching behind the address guard, against a site on loopback run by the test."""

from __future__ import annotations

import gzip
import ipaddress
import zlib

import pytest
from pydantic import ValidationError

from service.config import Settings, parse_allow_entry
from service.errors import (
    ContentTooLarge,
    FetchFailed,
    FetchTimeout,
    UnsupportedContent,
    UrlNotAllowed,
)
from service.ingest.fetch import Fetcher, retry_after
from service.ingest.guard import AddressPolicy, address_problem
from tests.loopback_site import LoopbackSite, Reply

PAGE = b"<html><head><title>Rates rise</title></head><body><p>Rates rose.</p></body></html>"


def make_fetcher(allow: tuple[str, ...] = ("127.0.0.1",), **kwargs: object) -> Fetcher:
    outcomes: list[str] = []
    values: dict[str, object] = {
        "policy": AddressPolicy(allow), "timeout_s": 5.0, "max_bytes": 100_000,
        "user_agent": "briefing-test/1 (+tests)", "on_outcome": outcomes.append,
    }
    values.update(kwargs)
    fetcher = Fetcher(**values)  # type: ignore[arg-type]
    fetcher.outcomes = outcomes  # type: ignore[attr-defined]
    return fetcher


# -- the address guard -------------------------------------------------------------------


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.10", "private"), ("172.16.5.4", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "CGNAT"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("2002:a00:1::", "private"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
])
def test_addresses_that_are_refused(address: str, problem: str) -> None:
    assert problem in (address_problem(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.1.1/", "CGNAT"),
    ("http://10.0.0.1/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.251/", "multicast"),
    ("https://news.example:8443/", "port 8443"),
    ("https://user:secret@news.example/", "credentials"),
    ("ftp://news.example/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("http:///nohost", "no host"),
    ("not a url at all", "only http and https"),
])
def test_urls_refused_before_any_connection(url: str, says: str) -> None:
    fetcher = make_fetcher(allow=(), resolver=_no_resolution)
    with pytest.raises(UrlNotAllowed) as caught:
        fetcher.fetch(url)
    assert caught.value.status == 422 and caught.value.code == "url_not_allowed"
    assert says in caught.value.message
    assert "secret" not in caught.value.message
    assert fetcher.outcomes == ["url_not_allowed"]  # type: ignore[attr-defined]


def _no_resolution(host: str, port: int, timeout: float) -> list[str]:
    raise AssertionError(f"{host} must be refused before it is resolved")


def test_a_name_resolving_to_a_private_address_is_refused_when_connecting() -> None:
    fetcher = make_fetcher(allow=(), resolver=lambda host, port, t: ["192.168.1.20"])
    with pytest.raises(UrlNotAllowed, match="192.168.1.20, a private address"):
        fetcher.fetch("http://intranet.example/admin")


def test_one_bad_address_among_good_ones_refuses_the_name() -> None:
    fetcher = make_fetcher(allow=(), resolver=lambda h, p, t: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(UrlNotAllowed, match="loopback"):
        fetcher.fetch("https://mixed.example/")


@pytest.mark.parametrize("url", ["http://localhost/", "http://2130706433/",
                                 "http://0x7f.1/", "http://127.1/"])
def test_loopback_by_name_or_number_is_refused_through_the_system_resolver(url: str) -> None:
    with pytest.raises(UrlNotAllowed, match="loopback"):
        make_fetcher(allow=()).fetch(url)


def test_the_vetted_address_is_the_one_connected_with_the_host_name_kept(
    site: LoopbackSite,
) -> None:
    """A name is resolved once, when connecting: no second lookup can point elsewhere."""
    site.route("/story", Reply(body=PAGE))
    calls: list[str] = []

    def resolver(host: str, port: int, timeout: float) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    fetcher = make_fetcher(allow=(f"news.example:{site.port}",), resolver=resolver)
    fetched = fetcher.fetch(f"http://news.example:{site.port}/story")
    assert fetched.body == PAGE and fetched.url == f"http://news.example:{site.port}/story"
    assert calls == ["news.example"]
    (seen,) = site.hits("/story")
    assert seen.headers["Host"] == f"news.example:{site.port}"


def test_allow_entries_with_a_port_allow_that_port_only(site: LoopbackSite) -> None:
    url = site.route("/story", Reply(body=PAGE))
    assert make_fetcher(allow=(site.host,)).fetch(url).body == PAGE
    with pytest.raises(UrlNotAllowed, match="port"):
        make_fetcher(allow=(f"127.0.0.1:{site.port + 1}",)).fetch(url)
    with pytest.raises(UrlNotAllowed):
        make_fetcher(allow=()).fetch(url)


# -- fetching ----------------------------------------------------------------------------


def test_a_page_is_fetched_with_the_services_user_agent(site: LoopbackSite) -> None:
    url = site.route("/story", Reply(body=PAGE))
    fetcher = make_fetcher()
    fetched = fetcher.fetch(url)
    assert (fetched.status, fetched.media_type, fetched.charset) == (200, "text/html", "utf-8")
    assert "Rates rose." in fetched.text()
    (seen,) = site.hits("/story")
    assert seen.headers["User-Agent"] == "briefing-test/1 (+tests)"
    assert fetcher.outcomes == ["ok"]  # type: ignore[attr-defined]


def test_redirects_are_followed_up_to_five(site: LoopbackSite) -> None:
    for hop in range(6):
        site.route(f"/r{hop}", Reply(302, headers={"Location": f"/r{hop + 1}"}))
    site.route("/r6", Reply(body=PAGE))
    fetched = make_fetcher().fetch(site.url("/r1"))
    assert fetched.url == site.url("/r6") and len(fetched.redirects) == 5
    assert not fetched.moved_permanently  # 302s
    # Moved for good only when every hop says so (301 or 308).
    site.route("/p1", Reply(301, headers={"Location": "/p2"}))
    site.route("/p2", Reply(308, headers={"Location": "/r6"}))
    site.route("/m1", Reply(301, headers={"Location": "/r5"}))  # then a 302
    assert make_fetcher().fetch(site.url("/p1")).moved_permanently
    assert not make_fetcher().fetch(site.url("/m1")).moved_permanently
    assert not make_fetcher().fetch(site.url("/r6")).moved_permanently  # no redirect at all
    with pytest.raises(FetchFailed, match="more than 5"):
        make_fetcher().fetch(site.url("/r0"))


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/", "http://localhost/admin",
    "http://[::1]/", "http://127.0.0.1:22/",
])
def test_a_redirect_to_a_private_address_is_refused(site: LoopbackSite, target: str) -> None:
    url = site.route("/go", Reply(301, headers={"Location": target}))
    fetcher = make_fetcher(allow=(site.host,))
    with pytest.raises(UrlNotAllowed):
        fetcher.fetch(url)
    assert len(site.requests) == 1


def test_a_stalled_server_times_out(site: LoopbackSite) -> None:
    url = site.route("/stall", Reply(body=PAGE, stall_s=30))
    with pytest.raises(FetchTimeout) as caught:
        make_fetcher(timeout_s=0.5).fetch(url)
    assert caught.value.status == 504 and caught.value.code == "fetch_timeout"


def test_a_trickling_server_hits_the_total_timeout_not_each_read(site: LoopbackSite) -> None:
    """Every read gets a byte in time; the total time is what is bounded."""
    url = site.route("/trickle", Reply(body=PAGE * 10, trickle_s=0.05))
    with pytest.raises(FetchTimeout):
        make_fetcher(timeout_s=0.5).fetch(url)


def test_a_large_page_is_refused_by_its_length_or_while_reading(site: LoopbackSite) -> None:
    big = b"<p>" + b"x" * 200_000 + b"</p>"
    declared = site.route("/big", Reply(body=big))
    undeclared = site.route("/big-unlabelled", Reply(body=big, length=False))
    for url in (declared, undeclared):
        with pytest.raises(ContentTooLarge) as caught:
            make_fetcher().fetch(url)
        assert caught.value.status == 413 and caught.value.code == "too_large"


def test_a_gzip_bomb_is_stopped_at_the_limit_of_decompressed_bytes(site: LoopbackSite) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # it passes a check of the bytes on the wire
    url = site.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ContentTooLarge):
        make_fetcher().fetch(url)


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
])
def test_compressed_pages_are_decoded(site: LoopbackSite, encoding: str, encode: object) -> None:
    url = site.route("/z", Reply(body=encode(PAGE), headers={"Content-Encoding": encoding}))  # type: ignore[operator]
    assert make_fetcher().fetch(url).body == PAGE


def test_an_encoding_that_was_not_asked_for_fails(site: LoopbackSite) -> None:
    url = site.route("/br", Reply(body=b"\x1b\x00", headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchFailed, match="br"):
        make_fetcher().fetch(url)


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/json"])
def test_pages_must_be_html_xhtml_or_text(site: LoopbackSite, content_type: str) -> None:
    url = site.route("/file", Reply(body=b"\x89PNG", content_type=content_type))
    with pytest.raises(UnsupportedContent) as caught:
        make_fetcher().fetch(url)
    assert caught.value.status == 415 and caught.value.code == "unsupported_content"
    assert not site.hits("/file")[0].headers.get("Range")


def test_an_error_status_is_fetch_failed_with_the_upstream_status(site: LoopbackSite) -> None:
    gone = site.route("/gone", Reply(404, b"nope"))
    busy = site.route("/busy", Reply(503, b"later", headers={"Retry-After": "120"}))
    with pytest.raises(FetchFailed) as caught:
        make_fetcher().fetch(gone)
    assert caught.value.status == 502 and caught.value.upstream_status == 404
    assert caught.value.to_body()["error"]["upstream_status"] == 404
    with pytest.raises(FetchFailed) as caught:
        make_fetcher().fetch(busy)
    assert caught.value.upstream_retry_after_s == 120


def test_an_unreachable_port_is_fetch_failed(site: LoopbackSite) -> None:
    with LoopbackSite() as closed:
        url = closed.url("/")
    with pytest.raises(FetchFailed):
        make_fetcher().fetch(url)


def test_a_not_modified_answer_is_returned(site: LoopbackSite) -> None:
    url = site.route("/feed", lambda h: Reply(304) if h.headers.get("If-None-Match") == '"v1"'
                     else Reply(body=b"<rss/>", content_type="application/rss+xml",
                                headers={"ETag": '"v1"'}))
    fetcher = make_fetcher()
    first = fetcher.fetch(url, kind="feed")
    assert first.headers["ETag"] == '"v1"' and first.body == b"<rss/>"
    again = fetcher.fetch(url, kind="feed", headers={"If-None-Match": '"v1"'})
    assert again.not_modified and again.body == b""
    assert fetcher.outcomes == ["ok", "not_modified"]  # type: ignore[attr-defined]


def test_the_charset_comes_from_the_header_or_the_page(site: LoopbackSite) -> None:
    latin = "<html><head><meta charset='iso-8859-1'></head><body><p>Café</p></body></html>"
    url = site.route("/latin", Reply(body=latin.encode("latin-1"), content_type="text/html"))
    assert "Café" in make_fetcher().fetch(url).text()


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("30") == 30
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert retry_after("soon") is None and retry_after(None) is None


@pytest.mark.parametrize("entry, parsed", [
    ("cms.intranet", ("cms.intranet", None)), ("CMS.Intranet:8080", ("cms.intranet", 8080)),
    ("[::1]:8443", ("::1", 8443)), ("fe80::1", ("fe80::1", None)), ("[::1]", ("::1", None)),
])
def test_allow_entries(entry: str, parsed: tuple[str, int | None]) -> None:
    assert parse_allow_entry(entry) == parsed


@pytest.mark.parametrize("value", ["cms:http", ":8080", "[::1]:x"])
def test_a_wrong_allow_entry_stops_the_service_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="BRIEFING_FETCH_ALLOW_HOSTS"):
        Settings(fetch_allow_hosts=value)
