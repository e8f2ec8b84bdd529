"""Logging for the long-running front-ends: lines on stderr, scrubbed of secrets and image data.

A filter on the handler passes every record through :class:`~imagegate._redact.Redactor`, so a
key or a base64 run that reaches a log message by any route (an upstream's error text, an
exception message from a library) is masked before it is written.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from ._redact import Redactor

if TYPE_CHECKING:
    from ._settings import Settings

__all__ = ["RedactingFilter", "configure_logging", "use_formatter"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "imagegate.stderr"
REQUEST_LOGGER = "imagegate.requests"


class RedactingFilter(logging.Filter):
    """Renders each record's message once, scrubbed, and drops its arguments."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(settings: Settings, *, quiet_by_default: bool = False) -> logging.Handler:
    """Send log lines at ``LOGGING__LEVEL`` to stderr through a :class:`RedactingFilter`.

    ``quiet_by_default`` (the CLI) logs only warnings unless ``LOGGING__LEVEL`` is set, the
    ``imagegate`` loggers of plugins included, and no per-request event (logger
    ``imagegate.requests``): a command reports its own result, so one that succeeds prints no log
    line. Python warnings are logged too, so every line on stderr has the handler's format. When
    logging is configured already (an application embedding the gateway), it is left alone.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(Redactor.from_settings(settings)))
    chosen = "level" in settings.logging.model_fields_set or not quiet_by_default
    level = settings.logging.level.upper() if chosen else "WARNING"
    if logging.getLogger().handlers:  # the embedding application (or a test runner) configured logging
        return handler
    logging.basicConfig(level=level, handlers=[handler])
    if not chosen:
        logging.getLogger("imagegate").setLevel(level)
        logging.getLogger(REQUEST_LOGGER).setLevel(logging.CRITICAL)
    logging.captureWarnings(True)
    return handler


def use_formatter(formatter: logging.Formatter) -> None:
    """Format the front-end's log lines with ``formatter`` (the observability plugin's JSON lines,
    so that a JSON log stream holds no plain-text line, the libraries' warnings included)."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == HANDLER_NAME:
            handler.setFormatter(formatter)
