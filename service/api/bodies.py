"""Request bodies: ``POST /v1/briefings`` takes JSON, text/plain or an HTML page.

Reading is bounded (413 past ``BRIEFING_MAX_BODY_BYTES``, or ``BRIEFING_MAX_HTML_BODY_BYTES``
for a page: real pages run to megabytes of markup around a few kilobytes of article),
decoding honours charsets, BOMs and a page's ``<meta charset>``,
and each refusal is an error of :mod:`service.errors` whose message says what to change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError, model_validator

from service.config import Settings
from service.errors import (
    InvalidEncoding,
    InvalidJSON,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from service.ingest.runtime import UrlRequest
from service.preprocess.html import as_html_document, decode_html
from service.store import Article


class BriefingRequest(BaseModel):
    """JSON body of ``POST /v1/briefings``: the article's ``text``, or a ``url`` to fetch."""

    text: str | None = Field(
        None, description="The article text; without it, the page at `url` is fetched"
    )
    title: str | None = Field(None, max_length=1_000)
    source: str | None = Field(None, max_length=500)
    url: str | None = Field(
        None, max_length=4_000,
        description="The article's URL; fetched (behind the address guard) when there is "
        "no `text`",
    )
    published_at: str | None = Field(None, max_length=100)
    lengths: list[Literal["short", "long"]] | None = Field(
        None, description="Which briefings to write; default both"
    )

    @model_validator(mode="after")
    def _text_or_url(self) -> BriefingRequest:
        if self.text is None and not (self.url and self.url.strip()):
            raise ValueError("send the article's `text`, or its `url` to fetch the page")
        return self


BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BriefingRequest.model_json_schema()},
            "text/plain": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes a body may have, and the setting that says so (named in the 413)."""

    max_bytes: int
    setting: str


def body_limits(settings: Settings) -> dict[str, BodyLimit]:
    """Limits by kind of body: ``text`` (JSON and plain text) and ``html`` (a page)."""
    return {
        "text": BodyLimit(settings.max_body_bytes, "BRIEFING_MAX_BODY_BYTES"),
        "html": BodyLimit(settings.max_html_body_bytes, "BRIEFING_MAX_HTML_BODY_BYTES"),
    }


async def read_body(request: Request, limit: BodyLimit) -> bytes:
    """The body, refused with 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    most = limit.max_bytes
    if declared and declared.isdigit() and int(declared) > most:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {most} bytes "
                              f"({limit.setting})")
    body = bytearray()
    async for part in request.stream():
        body.extend(part)
        if len(body) > most:
            raise PayloadTooLarge(f"the body is over the limit of {most} bytes "
                                  f"({limit.setting})")
    return bytes(body)


def _decode_text(body: bytes, charset: str | None) -> str:
    """Text from a text/plain body: BOMs honoured, invalid bytes refused with a clear 400."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        charset = "utf-16"
    elif body.startswith(b"\xef\xbb\xbf"):
        charset = "utf-8-sig"
    elif charset is None and len(body) >= 4 and body.count(0) * 3 >= len(body):
        # UTF-16 without a BOM (Windows tools): every other byte of ASCII text is NUL.
        charset = "utf-16-le" if body[1::2].count(0) > body[0::2].count(0) else "utf-16-be"
    try:
        return body.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidEncoding(
            f"the body is not valid {charset or 'utf-8'} text: send UTF-8, or name the "
            "charset in the Content-Type header"
        ) from exc


def _decode_html(body: bytes, charset: str | None) -> str:
    """Text from a text/html body: a declared charset must fit (else a clear 400); without
    one, the page's ``<meta charset>``, UTF-8 or windows-1252 (see ``decode_html``)."""
    try:
        return decode_html(body, charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidEncoding(
            f"the body is not valid {charset} text: send the page's bytes with the charset "
            "they are in, or no charset (the page's <meta charset> is then used)"
        ) from exc


_TEXT_TYPES = ("text/plain", "text/html", "application/xhtml+xml")


async def parse_article(
    request: Request, limits: dict[str, BodyLimit]
) -> tuple[Article | UrlRequest, list[str] | None]:
    """The article (or the URL to fetch it from) and the lengths asked for, from a JSON,
    text or HTML body."""
    media = request.headers.get("content-type", "")
    media_type, _, params = media.partition(";")
    media_type = media_type.strip().lower()
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    if media_type not in _TEXT_TYPES and media_type != "application/json" and not (
        media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(
            f"Content-Type {media_type or '(none)'!r} is not supported: send "
            "application/json with a `text` field, or text/plain (or text/html) with the "
            "article as the body"
        )
    page = media_type in _TEXT_TYPES and media_type != "text/plain"
    body = await read_body(request, limits["html" if page else "text"])
    if media_type == "text/plain":
        return Article(text=_decode_text(body, charset)), None
    if page:
        # A page: preprocessing extracts its main text (service.preprocess.html).
        return Article(text=as_html_document(_decode_html(body, charset))), None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from exc
    return article_request(data)


def article_request(data: Any) -> tuple[Article | UrlRequest, list[str] | None]:
    """A ``BriefingRequest``-shaped mapping (the JSON body, or the page's form) validated:
    the article, or the URL to fetch when there is no text, and the lengths asked for."""
    try:
        parsed = BriefingRequest.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(describe(exc)) from exc
    lengths = list(parsed.lengths) if parsed.lengths else None
    if parsed.text is None:
        assert parsed.url is not None
        return UrlRequest(url=parsed.url.strip(), title=parsed.title, source=parsed.source,
                          published_at=parsed.published_at), lengths
    article = Article(
        text=parsed.text, title=parsed.title, source=parsed.source, url=parsed.url,
        published_at=parsed.published_at,
    )
    return article, lengths


def describe(exc: ValidationError | RequestValidationError) -> str:
    """One line per problem, naming the field: what a client needs to fix the request."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
