"""Serving the HTTP front-end for the e2e tests: in-process from an environment, or as a real
``imagegate serve http`` subprocess; plus the checks the tests share (no secret leaks, real images)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GATEWAY_KEY = "gw-e2e-client-key-42"
"""The key clients present to the gateway (``GATEWAY__API_KEYS``); not an upstream secret."""


@dataclass
class Served:
    """A running HTTP front-end and (in-process only) the gateway behind it."""

    base_url: str
    gateway: Any = None

    def client(self) -> Any:
        """The official SDK, unchanged but for ``base_url`` (and no retries of its own)."""
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=GATEWAY_KEY, max_retries=0)


ServeEnv = Callable[[dict[str, str]], Awaitable[Served]]


@pytest.fixture
async def serve_env(env_gateway: Any) -> AsyncIterator[ServeEnv]:
    """``await serve_env(env)``: the app serving a gateway configured only by ``env`` (plus the
    gateway key and its own public URL) on a free 127.0.0.1 port; stopped at teardown."""
    from imagegate_http.app import create_app
    from imagegate_http.testing import loopback_socket, start_app

    async with AsyncExitStack() as stack:
        async def start(env: dict[str, str]) -> Served:
            sock, base_url = loopback_socket()
            try:
                gateway = await env_gateway({"GATEWAY__PUBLIC_URL": base_url, "GATEWAY__API_KEYS": GATEWAY_KEY,
                                             **env})
                runner = await start_app(create_app(gateway), sock)
            except BaseException:
                sock.close()
                raise
            stack.push_async_callback(runner.cleanup)
            return Served(base_url, gateway)

        yield start


@dataclass
class ServerProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


async def start_server_process(env: dict[str, str], log: Path, timeout_s: float = 60.0) -> ServerProcess:
    """Run ``imagegate serve http --port <free>`` with ``env`` over the current environment and poll
    ``/healthz`` until it answers 200 (awaiting, so fakes on this event loop keep serving).
    The caller kills the process (see :func:`stop_server_process`); a failed start kills it here."""
    from imagegate_storage_s3.testing import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("imagegate")  # the console script beside this interpreter
    launcher = [str(script)] if script.exists() else [sys.executable, "-c", "from imagegate.cli import main; main()"]
    command = [*launcher, "serve", "http", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(base_url, process, log)
    try:
        await _wait_healthy(server, timeout_s)
    except BaseException:
        stop_server_process(server)
        raise
    return server


async def _wait_healthy(server: ServerProcess, timeout_s: float) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while True:
            if server.process.poll() is not None:
                msg = f"imagegate serve http exited with {server.process.returncode}: {_tail(server.log)}"
                raise AssertionError(msg)
            try:
                async with session.get(server.base_url + "/healthz",
                                       timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    if answer.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                msg = f"imagegate serve http not ready after {timeout_s} s: {_tail(server.log)}"
                raise AssertionError(msg)
            await asyncio.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def stop_server_process(server: ServerProcess) -> None:
    if server.process.poll() is None:
        server.process.kill()
    server.process.wait(timeout=10)


def assert_no_secrets(secrets: Iterable[str], *texts: str) -> None:
    """None of ``secrets`` (nor a long prefix of one) appears in any of ``texts``."""
    for secret in secrets:
        for text in texts:
            assert secret not in text and secret[:12] not in text, "an upstream secret leaked"


def response_texts(response: Any) -> tuple[str, str]:
    """An httpx response's body and headers as text, for :func:`assert_no_secrets`."""
    return response.text, "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def picture(data: bytes) -> tuple[str, tuple[int, int]]:
    """The real format (Pillow's name) and size of encoded image bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return str(image.format), image.size
