"""One structured JSON event per request, on stderr.

The logger is ``imagegate.requests``; its events carry the trace and span ids so a log line leads
to its trace. Values are scrubbed before they get here (see :mod:`.scrub`).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["LOGGER_NAME", "JsonFormatter", "StderrJsonHandler", "emit", "install_handler", "request_logger"]

LOGGER_NAME = "imagegate.requests"
EVENT_ATTR = "imagegate_event"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; the record's ``imagegate_event`` dict is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        import orjson

        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event = getattr(record, EVENT_ATTR, None)
        if isinstance(event, dict):
            document.update(event)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        return orjson.dumps(document, default=str).decode()


class StderrJsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes JSON lines to whatever ``sys.stderr`` is at the time (pytest swaps it per test)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """The stream is always the current stderr; assignments are ignored."""


def request_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def install_handler() -> logging.Logger:
    """Give the request logger its stderr JSON handler once per process; return the logger.

    The logger stops propagating so a front-end's own log configuration does not print each
    event a second time in another format; that configuration's other lines (the libraries'
    warnings among them) become JSON too, so stderr is one JSON stream. Events are written at
    INFO unless the front-end chose a level for this logger (the CLI turns it off, and then keeps
    its plain-text warnings for the person reading them).
    """
    from imagegate.frontend import use_formatter

    logger = request_logger()
    if not any(isinstance(handler, StderrJsonHandler) for handler in logger.handlers):
        logger.addHandler(StderrJsonHandler())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    logger.propagate = False
    if logger.isEnabledFor(logging.INFO):  # the request log is on: stderr is one JSON stream
        use_formatter(JsonFormatter())
    return logger


def emit(logger: logging.Logger, level: int, message: str, event: dict[str, Any]) -> None:
    logger.log(level, message, extra={EVENT_ATTR: event})
