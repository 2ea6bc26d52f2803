"""Request bodies: ``POST /v1/briefings`` takes JSON, text/plain or an HTML page.

Reading is bounded (413 past ``BRIEFING_MAX_BODY_BYTES``, or ``BRIEFING_MAX_HTML_BODY_BYTES``
for a page: real pages run to megabytes of markup around a few kilobytes of article),
decoding honours charsets, BOMs and a page's ``<meta charset>`` (:func:`decode_article`,
which ``briefing summarize`` and ``briefing preprocess`` use for files too), a page keeps
its title, site name, canonical URL and date (:func:`service.ingest.page.article_from_html`)
whichever way it comes, and each refusal is an error of :mod:`service.errors` whose message
says what to change (in words: no pydantic class names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from service.config import Settings
from service.errors import (
    InvalidEncoding,
    InvalidJSON,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    WrongContentType,
)
from service.ingest.page import article_from_html
from service.ingest.runtime import UrlRequest
from service.output_language import parse_language
from service.preprocess.html import decode_html, looks_like_html
from service.storage.articles import Article


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
    published_at: str | None = Field(
        None, max_length=100,
        description="When it was published: ISO 8601, a date (`2024-05-01`) or a time "
        "(`2024-05-01T09:30:00Z`, `2024-05-01T11:30:00+02:00`)",
    )
    lengths: list[Literal["short", "long"]] | None = Field(
        None, description="Which briefings to write; default both"
    )
    language: str | None = Field(
        None, max_length=20,
        description="The language to write the briefings in: `auto` (the article's own) or a "
        "code such as `de`; default BRIEFING_OUTPUT_LANGUAGE. Only the llm engine writes in "
        "another language than the article's (others: 422 `language_not_supported`)",
    )

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return parse_language(value, "`language`")

    @field_validator("published_at")
    @classmethod
    def _iso_8601(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value[:40]!r} is not an ISO 8601 date or time: send e.g. 2024-05-01, "
                "2024-05-01T09:30:00Z or 2024-05-01T11:30:00+02:00"
            ) from None
        return value

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


# How a client names a charset; the CLI names its --charset option instead.
NAME_CHARSET = "name the charset in the Content-Type header"


def decode_article(
    body: bytes, charset: str | None, *, page: bool, what: str = "the body",
    name_charset: str = NAME_CHARSET,
) -> str:
    """The text of an article's bytes: a page (``page``) as a browser decodes it (BOM,
    ``charset``, its ``<meta charset>``, UTF-8, else windows-1252), a text by its BOM, its
    ``charset``, UTF-16 without BOM, else UTF-8. Bytes not valid in the charset that applies
    are refused (``InvalidEncoding``; ``what`` and ``name_charset`` word the message)."""
    if page:
        return _decode_html(body, charset, what)
    return _decode_text(body, charset, what, name_charset)


def _decode_text(body: bytes, charset: str | None, what: str = "the body",
                 name_charset: str = NAME_CHARSET) -> str:
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
            f"{what} is not valid {charset or 'utf-8'} text: send UTF-8, or {name_charset}"
        ) from exc


def _decode_html(body: bytes, charset: str | None, what: str = "the body") -> str:
    """Text from a text/html body: a declared charset must fit (else a clear 400); without
    one, the page's ``<meta charset>``, UTF-8 or windows-1252 (see ``decode_html``)."""
    try:
        return decode_html(body, charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidEncoding(
            f"{what} is not valid {charset} text: send the page's bytes with the charset "
            "they are in, or no charset (the page's <meta charset> is then used)"
        ) from exc


_TEXT_TYPES = ("text/plain", "text/html", "application/xhtml+xml")


async def parse_article(
    request: Request, limits: dict[str, BodyLimit]
) -> tuple[Article | UrlRequest, list[str] | None, str | None]:
    """The article (or the URL to fetch it from), the lengths and the output language asked
    for (None: not asked; text and HTML bodies ask for neither), from a JSON, text or HTML
    body."""
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
        text = _decode_text(body, charset)
        _refuse_json_as_text(text)
        return article_from_text(text), None, None
    if page:
        # A page: preprocessing extracts its main text (service.preprocess.html); the page
        # keeps its title, site name, canonical URL and date.
        return article_from_html(_decode_html(body, charset)), None, None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidJSON(f"the body is not valid JSON: {exc}") from exc
    return article_request(data)


def _refuse_json_as_text(text: str) -> None:
    """A text/plain body that is this API's JSON request (an object with ``text`` or
    ``url``) was meant as JSON: briefing it would store and list the JSON as an article."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return
    if isinstance(data, dict) and ("text" in data or "url" in data):
        raise WrongContentType(
            "the body is a JSON request (an object with `text` or `url`) sent as "
            "Content-Type: text/plain: send it with `Content-Type: application/json` "
            "(curl: -H 'Content-Type: application/json'), or send the article's own text "
            "as the text/plain body"
        )


def article_from_text(text: str, **given: str | None) -> Article:
    """The article a text makes: a text that is a page (HTML) keeps the page's title, site
    name, canonical URL and date, as a page sent as text/html does; ``given`` (title,
    source, url, published_at: what the caller says) wins over what the page says."""
    if looks_like_html(text):
        return article_from_html(text, **given)
    return Article(text=text, **given)


def article_request(data: Any) -> tuple[Article | UrlRequest, list[str] | None, str | None]:
    """A ``BriefingRequest``-shaped mapping (the JSON body, or the page's form) validated:
    the article, or the URL to fetch when there is no text, the lengths and the output
    language asked for."""
    try:
        parsed = BriefingRequest.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(describe(exc)) from exc
    lengths = list(parsed.lengths) if parsed.lengths else None
    if parsed.text is None:
        assert parsed.url is not None
        return UrlRequest(url=parsed.url.strip(), title=parsed.title, source=parsed.source,
                          published_at=parsed.published_at), lengths, parsed.language
    article = article_from_text(
        parsed.text, title=parsed.title, source=parsed.source, url=parsed.url,
        published_at=parsed.published_at,
    )
    return article, lengths, parsed.language


def describe(exc: ValidationError | RequestValidationError) -> str:
    """One clause per problem, naming the field, in words (no pydantic class names): what a
    client needs to fix the request."""
    return "; ".join(_problem(error) for error in exc.errors()[:5])


_PARAMETERS = {"query": "query parameter", "path": "path parameter", "header": "header",
               "cookie": "cookie"}


def _problem(error: Any) -> str:
    loc = [p for p in error.get("loc", ()) if p != "body"]
    kind = _PARAMETERS.get(str(loc.pop(0))) if loc and str(loc[0]) in _PARAMETERS else None
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    where = f"{kind} `{name}`" if kind else f"`{name}`" if name else ""
    kind_of, ctx = error.get("type", ""), error.get("ctx") or {}
    if not where:
        if kind_of in ("model_type", "model_attributes_type", "dict_type"):
            return ('the JSON body must be an object, e.g. {"text": "the article"} or '
                    '{"url": "https://…"}')
        if kind_of == "value_error" and ctx.get("error") is not None:
            return str(ctx["error"])
        where = "the body"
    if kind_of == "missing":
        return f"{where} is required"
    if kind_of == "value_error" and ctx.get("error") is not None:
        return f"{where}: {ctx['error']}"
    phrase = _PHRASES.get(kind_of)
    if phrase is not None:
        try:
            return f"{where} {phrase.format(**ctx)}"
        except (KeyError, IndexError):
            pass  # pydantic said less than usual: its own message below
    message = str(error.get("msg", "is not valid"))
    return f"{where}: {message[:1].lower()}{message[1:]}"


_PHRASES = {
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "literal_error": "must be {expected}",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_too_short": "is too short: at least {min_length} characters",
    "too_long": "is too long: at most {max_length} items",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
}
