"""Logging: plain text or one JSON object per line, and the request id on every line.

``BRIEFING_LOG_FORMAT=json`` writes JSON lines (python-json-logger) with ``time`` (UTC), ``level``,
``logger``, ``message`` and, inside a request, ``request_id``; ``text`` (the default) writes
the same fields as a readable line. The request id lives in a context variable that the API's
middleware sets for each request (:func:`request_scope`), so every line logged while serving
it, in the event loop or in a worker thread, carries it. uvicorn's own loggers go through the
same handler; its access log is replaced by one line per request from the API (with the id).
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# What we accept from a client as its id: short, and nothing that could forge a log line.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_HANDLER_NAME = "briefing"
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


def request_id_from(header: str | None) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, else a new one."""
    if header and _CLIENT_ID.match(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """Log lines within carry ``request_id``."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) and ``request_tag`` (for text lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


class _JsonLines(JsonFormatter):
    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record.pop("request_tag", None)
        if log_record.get("request_id") is None:
            log_record.pop("request_id", None)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Set up the root logger (and uvicorn's, which propagate to it) once per process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(_JsonLines(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
            json_ensure_ascii=False,
        ))
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)  # configured again: replace ours, keep others' (pytest's)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # trafilatura logs each page or fragment it cannot parse at ERROR ("parsed tree length:
    # 0"), though the service then reads it another way (service.preprocess.html) and says
    # itself what failed: noise in a poll that succeeded. Kept for --log-level debug.
    quiet = root.getEffectiveLevel() > logging.DEBUG
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL if quiet else logging.NOTSET)


__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdFilter",
    "configure_logging",
    "request_id_from",
    "request_scope",
]
