"""A real ``redis-server`` on 127.0.0.1 for tests and examples: a free port, no persistence.

:class:`RedisServer` starts it, waits until it answers ``PING``, and can stop and start it again on
the same port (to prove what a gateway does while Redis is lost and once it is back). Needs the
``redis-server`` binary (Debian's ``redis-server`` package; ``make tools`` installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Self

from imagegate.testing import stop_process

__all__ = ["RedisServer", "free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server --port N --save '' --appendonly no`` on loopback; use it as a context manager."""

    def __init__(self, port: int | None = None, *, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("redis-server") or "redis-server"
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        """Start the server and return once it answers PING."""
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"redis-server exited with {self._process.returncode}: {error}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING on port {self.port} in {timeout_s} s")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
