"""aiohttp's access line goes to ``imagegate.http.access``, and only with LOGGING__LEVEL=DEBUG."""

from __future__ import annotations

from imagegate_http.server import access_logger


def test_access_line_only_when_debugging() -> None:
    assert access_logger("INFO") is None and access_logger("WARNING") is None
    logger = access_logger("DEBUG")
    assert logger is not None and logger.name == "imagegate.http.access"
