"""A client that hangs up mid-request is logged once, at INFO, as one line without a traceback;
the paid work it started still completes and is stored."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

HANGUP = "client disconnected"


async def _wait_for(predicate, what: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def _hangups(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if HANGUP in record.getMessage()]


def _assert_one_quiet_line(caplog: pytest.LogCaptureFixture, path: str) -> None:
    [record] = _hangups(caplog)
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.getMessage() == f"{HANGUP} method=POST path={path} error={record.imagegate_event['error']}"
    assert "\n" not in record.getMessage()
    assert record.imagegate_event["event"] == "client_disconnected"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "Traceback" not in caplog.text


async def _send_and_hang_up(base_url: str, data: bytes) -> asyncio.StreamWriter:
    host, port = base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    return writer


async def test_hang_up_while_the_image_is_made_is_one_info_line_and_the_image_is_kept(
        served, gate: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"model": "test-gated", "prompt": "paid for"}).encode()
    head = (f"POST /v1/images/generations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    writer = await _send_and_hang_up(served.base_url, head + body)
    await _wait_for(lambda: any(gate.glob("started-*")), "the request to reach the provider")
    writer.close()
    await writer.wait_closed()
    (gate / "release").touch()
    await _wait_for(lambda: _hangups(caplog), "the hang-up to be logged")
    await served.gateway.settle()  # the paid work goes on in the background after the hang-up
    stored = await served.gateway.list()
    assert [item["model"] for item in stored] == ["test-gated"]
    _assert_one_quiet_line(caplog, "/v1/images/generations")


@pytest.mark.parametrize(("path", "content_type", "partial"), [
    ("/v1/images/generations", "application/json", b'{"prompt": "half a bo'),
    ("/v1/images/edits", "multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhalf a fie'),
])
async def test_hang_up_while_the_body_is_sent_is_one_info_line(served, caplog: pytest.LogCaptureFixture,
                                                               path: str, content_type: str, partial: bytes) -> None:
    caplog.set_level(logging.DEBUG)
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n"
    writer = await _send_and_hang_up(served.base_url, head.encode() + partial)
    await asyncio.sleep(0)  # the body is being read when the client goes
    writer.close()
    await writer.wait_closed()
    await _wait_for(lambda: _hangups(caplog), "the hang-up to be logged")
    _assert_one_quiet_line(caplog, path)
