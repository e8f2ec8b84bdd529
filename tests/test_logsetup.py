"""Front-end log lines are scrubbed: no configured secret, no base64 image data, whatever the route."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pybase64
import pytest

from imagegate._logsetup import RedactingFilter, configure_logging
from imagegate._redact import Redactor
from imagegate._settings import Settings

KEY = "sk-live-SECRET-abcdef0123456789"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a RedactingFilter into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter(Redactor([KEY])))
    logger = logging.getLogger("imagegate.test-logsetup")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, buffer
    finally:
        logger.removeHandler(handler)


def test_arguments_exceptions_and_base64_are_scrubbed(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    data = pybase64.b64encode(bytes(range(256)) * 4).decode()
    logger.error("upstream said %s about %s", f"bad key {KEY}", data)
    try:
        raise RuntimeError(f"refused Authorization: Bearer {KEY}")
    except RuntimeError:
        logger.exception("storage failed")
    text = buffer.getvalue()
    assert KEY not in text and data not in text
    assert "upstream said bad key [redacted] about [base64 data, 1368 chars]" in text
    assert "RuntimeError: refused Authorization: Bearer [redacted]" in text
    assert "Traceback" in text


def test_configure_logging_collects_the_secrets_from_settings() -> None:
    settings = Settings(providers={"openai": {"api_key": KEY}}, gateway={"api_keys": ["gw-key-0123456789"]})
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers = []
    try:
        handler = configure_logging(settings)
        buffer = io.StringIO()
        handler.setStream(buffer)
        logging.getLogger("imagegate.gateway").warning("keys %s and %s", KEY, "gw-key-0123456789")
    finally:
        root.handlers = saved
        root.setLevel(level)
        logging.captureWarnings(False)
    assert buffer.getvalue().rstrip().endswith("imagegate.gateway: keys [redacted] and [redacted]")
