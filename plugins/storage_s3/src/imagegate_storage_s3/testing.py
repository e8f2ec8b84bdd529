"""A real S3-compatible server on 127.0.0.1 for tests, conformance suites and benchmarks.

:class:`MotoServer` runs moto's standalone S3 server in a subprocess on a free port (optionally
with authentication on). :class:`S3Front` is a small aiohttp reverse proxy in front of it that
counts and records calls, answers the next calls with a chosen failure (e.g. ``503 SlowDown``),
can hang, and can go away and come back on the same port while moto keeps the bucket's state.
Needs ``moto[server]`` (the ``test`` extra); nothing here touches the internet.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagegate.testing import stop_process

if TYPE_CHECKING:
    from imagegate import Settings

__all__ = ["FAKE_AWS_ENV", "MotoServer", "Received", "S3Front", "bucket_client", "free_port", "gateway_settings",
           "new_bucket"]

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
"""Environment for tests: fake credentials, a region, and no IMDS or ~/.aws lookups."""

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect", "upgrade",
               "proxy-connection", "te", "trailer"}


def gateway_settings(endpoint: str, bucket: str, spool_dir: Path, **s3: Any) -> Settings:
    """Settings for a gateway that stores in ``bucket`` at ``endpoint`` (two attempts per call)."""
    from imagegate import Settings

    s3.setdefault("max_attempts", 2)
    return Settings(storage={"backend": "s3", "s3": {"bucket": bucket, "endpoint_url": endpoint, **s3},
                             "spool_dir": str(spool_dir)})


def bucket_client(endpoint: str, **credentials: str) -> Any:
    """A plain boto3 client (fake credentials unless given), to look at a bucket behind the gateway's back."""
    import boto3

    creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", **credentials}
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds)


def new_bucket(endpoint: str, prefix: str = "imagegate") -> str:
    """Create a bucket with a fresh name; return the name."""
    import uuid

    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    bucket_client(endpoint).create_bucket(Bucket=name)
    return name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """moto's S3 server in a subprocess on 127.0.0.1.

    ``free_actions`` is moto's ``INITIAL_NO_AUTH_ACTION_COUNT``: None leaves authentication off;
    a number lets that many calls through unauthenticated (to create IAM users and buckets), then
    every request must be signed with a known key.
    """

    def __init__(self, *, free_actions: int | None = None) -> None:
        self.free_actions = free_actions
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> MotoServer:
        env = {**os.environ, **FAKE_AWS_ENV}
        if self.free_actions is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.free_actions)
        for _ in range(5):  # the free port may be taken between probing and binding
            self.port = free_port()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready(timeout_s):
                return self
            self.stop()
        msg = "moto server did not start"
        raise RuntimeError(msg)

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class Received:
    """One request the front saw."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Failure:
    status: int
    body: bytes
    headers: dict[str, str]


class S3Front:
    """An aiohttp reverse proxy on 127.0.0.1 in front of an S3-compatible server.

    The ``Host`` header is passed through unchanged, so SigV4 signatures stay valid upstream.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = 0
        self.calls = 0
        self.received: list[Received] = []
        self._failures: list[_Failure] = []
        self._hanging = False
        self._release: asyncio.Event | None = None
        self._runner: Any = None
        self._session: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    def fail_with(self, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """Answer the next ``times`` calls with this status, body and headers."""
        data = body.encode() if isinstance(body, str) else body
        self._failures.extend(_Failure(status, data, dict(headers or {})) for _ in range(times))

    def slow_down(self, times: int = 1) -> None:
        """The next calls get S3's throttling answer, ``503 SlowDown``."""
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                "<Message>Please reduce your request rate.</Message></Error>")
        self.fail_with(503, body, {"Content-Type": "application/xml"}, times)

    def hang(self, on: bool = True) -> None:
        """Hold requests without answering (until ``hang(False)`` or ``stop()``)."""
        self._hanging = on
        if not on and self._release is not None:
            self._release.set()
            self._release = asyncio.Event()

    async def start(self, port: int | None = None) -> S3Front:
        """Listen on ``port`` (a free one first time; the same one again after ``stop()``)."""
        import aiohttp
        from aiohttp import web

        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port if port is not None else self.port)
        await site.start()
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession(auto_decompress=False)
        self._release = asyncio.Event()
        return self

    async def stop(self) -> None:
        """Go away: close the listening socket and every connection (the port is kept)."""
        if self._release is not None:
            self._release.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _forward(self, request: Any) -> Any:
        from aiohttp import web
        from yarl import URL

        self.calls += 1
        self.received.append(Received(request.method, request.path, request.query_string,
                                      {k: v for k, v in request.headers.items() if k.lower() != "authorization"}))
        if self._hanging and self._release is not None:
            await self._release.wait()
        if self._failures:
            failure = self._failures.pop(0)
            return web.Response(status=failure.status, body=failure.body, headers=failure.headers)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        target = URL(f"{self.upstream}{request.raw_path}", encoded=True)
        async with self._session.request(request.method, target, headers=headers, data=body or None,
                                         allow_redirects=False) as answer:
            data = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return web.Response(status=answer.status, body=None if request.method == "HEAD" else data, headers=out)
