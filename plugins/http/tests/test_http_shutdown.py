"""SIGTERM: the server stops accepting, finishes the request in flight, and exits 0."""

from __future__ import annotations

import base64
import json
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


def _wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sigterm_finishes_the_request_in_flight_then_exits_0(cli_server, gate: Path) -> None:
    server = cli_server()
    outcome: dict = {}

    def slow_request() -> None:
        body = json.dumps({"model": "test-gated", "prompt": "slow one"}).encode()
        request = urllib.request.Request(server.base_url + "/v1/images/generations", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                outcome["status"] = response.status
                outcome["body"] = json.loads(response.read())
        except Exception as exc:  # recorded and asserted below
            outcome["error"] = exc

    client = threading.Thread(target=slow_request)
    client.start()
    _wait_for(lambda: any(gate.glob("started-*")), "the slow request to reach the provider")
    server.process.send_signal(signal.SIGTERM)

    def refused() -> bool:
        try:
            urllib.request.urlopen(server.base_url + "/healthz", timeout=1).close()
        except urllib.error.URLError:
            return True
        except OSError:
            return True
        return False

    _wait_for(refused, "the server to stop accepting new connections")
    assert server.process.poll() is None  # still finishing the request in flight
    (gate / "release").touch()
    client.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["status"] == 200
    assert base64.b64decode(outcome["body"]["data"][0]["b64_json"]).startswith(b"\x89PNG")
    assert server.process.wait(timeout=60) == 0
