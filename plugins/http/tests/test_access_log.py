"""aiohttp's access line goes to ``imagegate.http.access`` at DEBUG only."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_log import AccessLogger
from imagegate_http.server import DebugAccessLogger

NAME = "imagegate.http.access"


def test_access_line_is_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    access = DebugAccessLogger(logging.getLogger(NAME), AccessLogger.LOG_FORMAT)
    with caplog.at_level(logging.INFO, logger=NAME):
        assert access.enabled is False
    with caplog.at_level(logging.DEBUG, logger=NAME):
        assert access.enabled is True
        access.log(make_mocked_request("GET", "/healthz", headers={"User-Agent": "bench"}),
                   web.Response(status=204), 0.01)
    assert [(r.name, r.levelno) for r in caplog.records] == [(NAME, logging.DEBUG)]
    line = caplog.records[0].getMessage()
    assert '"GET /healthz HTTP/1.1" 204' in line and '"bench"' in line
    assert caplog.records[0].request_header == {"Referer": "-", "User-Agent": "bench"}  # extras as aiohttp sets them
