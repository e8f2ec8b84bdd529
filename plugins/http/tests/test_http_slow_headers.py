"""Slowloris: a connection trickling its request head one byte a second is closed once
``GATEWAY__HEADER_TIMEOUT_S`` has passed; a request whose head arrived in time is never cut."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from pathlib import Path

TIMEOUT_S = 2.0


def _trickle_until_closed(base_url: str, limit_s: float) -> tuple[float, int]:
    """Send a request head one byte a second; seconds until the server closed, bytes sent."""
    host, port = base_url.removeprefix("http://").split(":")
    head = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 100
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(1.0)
        started = time.monotonic()
        for sent, byte in enumerate(head, start=1):
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1024) == b"":  # waits up to the next second for a close
                    return time.monotonic() - started, sent
            except TimeoutError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - started, sent
            if time.monotonic() - started > limit_s:
                break
    raise AssertionError(f"the connection was still open after {limit_s} s")


def _generate(base_url: str, model: str) -> int:
    body = json.dumps({"model": model, "prompt": "slow"}).encode()
    request = urllib.request.Request(base_url + "/v1/images/generations", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_trickled_headers_are_cut_at_the_timeout_served_requests_are_not(cli_server, gate: Path) -> None:
    server = cli_server({"GATEWAY__HEADER_TIMEOUT_S": str(TIMEOUT_S)})
    elapsed, sent = _trickle_until_closed(server.base_url, limit_s=TIMEOUT_S + 8)
    assert TIMEOUT_S - 0.5 <= elapsed <= TIMEOUT_S + 2.5, elapsed
    assert sent < 10  # cut long before the head was complete

    outcome: dict[str, int] = {}
    client = threading.Thread(target=lambda: outcome.update(status=_generate(server.base_url, "test-gated")))
    client.start()
    deadline = time.monotonic() + 30
    while not any(gate.glob("started-*")):
        assert time.monotonic() < deadline, "the gated request never started"
        time.sleep(0.02)
    time.sleep(TIMEOUT_S + 1)  # the request is in the handler for longer than the header timeout
    (gate / "release").touch()
    client.join(timeout=30)
    assert outcome == {"status": 200}
