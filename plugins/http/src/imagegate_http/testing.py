"""Helpers for testing the HTTP front-end (also usable by cross-plugin suites).

- :class:`GatedProvider` (model ``test-gated``) holds each call until a file named ``release``
  appears in its gate folder, after writing ``started-<request_id>``: a test can have a request
  in flight for exactly as long as it needs (the graceful-shutdown test runs it in a subprocess,
  where the folder comes from ``IMAGEGATE_HTTP_TEST_GATE``).
- :class:`StreamingProvider` (model ``test-streamer``) reports two partial images before its
  final one, and takes ``aspect_ratio`` instead of ``size`` (for the size mapping).
- :func:`loopback_socket` and :func:`start_app` run an app on a free 127.0.0.1 port.
- :func:`raw_exchange` sends a request head and body chunks on a raw connection, as an attacker
  would (chunked bodies, lying ``Content-Length``), and returns the answer as soon as it arrives.

Register this module as a plugin (``pm.register(imagegate_http.testing, name="http-testing")``)
only in tests; it is not an entry point.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pybase64
from aiohttp import web

from imagegate import (
    BaseProvider,
    ModelSpec,
    ParamSpec,
    PriceRule,
    Pricing,
    ProviderCall,
    ProviderImage,
    ProviderResult,
    SizeSpec,
    hookimpl,
)

__all__ = ["GatedProvider", "RawAnswer", "StreamingProvider", "image_size", "loopback_socket",
           "raw_exchange", "start_app"]

GATE_ENV = "IMAGEGATE_HTTP_TEST_GATE"


def _png(prompt: str, width: int, height: int) -> bytes:
    from imagegate.testing import image_bytes

    return image_bytes(width, height, seed=len(prompt))


class GatedProvider(BaseProvider):
    """Waits for ``<gate>/release`` before answering (polls; no event crosses processes)."""

    name = "test-gated"
    cancellable = False

    def __init__(self, gate: Path | None = None) -> None:
        self.gate = gate

    async def run(self, call: ProviderCall) -> ProviderResult:
        gate = self.gate or Path(os.environ[GATE_ENV])
        (gate / f"started-{call.request_id}").touch()
        while not (gate / "release").exists():
            await asyncio.sleep(0.02)
        data = await asyncio.to_thread(_png, call.prompt or "", 64, 64)
        return ProviderResult(images=[ProviderImage(data=data, mime_type="image/png")])


class StreamingProvider(BaseProvider):
    """Two partial images, then the final one; the size comes from ``aspect_ratio``."""

    name = "test-streamer"
    cancellable = True

    async def run(self, call: ProviderCall) -> ProviderResult:
        ratio = call.params.get("aspect_ratio", "1:1")
        width, height = (int(side) * 64 for side in ratio.split(":"))
        if call.stream:
            for index in range(2):
                partial = await asyncio.to_thread(_png, f"{call.prompt} partial {index}", 64, 64)
                call.progress("partial_image", {"index": index, "b64_json": pybase64.b64encode(partial).decode(),
                                                "mime_type": "image/png"})
        data = await asyncio.to_thread(_png, call.prompt or "", width, height)
        return ProviderResult(images=[ProviderImage(data=data, mime_type="image/png",
                                                    revised_prompt=f"revised: {call.prompt}")])


def gated_spec() -> ModelSpec:
    return ModelSpec(id="test-gated", provider="test-gated", upstream="gated", operations=["generate"],
                     sizes=SizeSpec(values=["64x64"]), default_size="64x64", n_param=None,
                     pricing=Pricing(per_image=[PriceRule(usd=0.0)]))


def streaming_spec() -> ModelSpec:
    ratios = ["1:1", "3:2", "2:3", "16:9", "9:16"]
    return ModelSpec(id="test-streamer", provider="test-streamer", upstream="streamer",
                     operations=["generate", "edit"], sizes=None, size_param=None, aspect_ratios=ratios,
                     params={"aspect_ratio": ParamSpec(enum=ratios, default="1:1", description="Shape.")},
                     streaming=True, max_input_images=4, pricing=Pricing(per_image=[PriceRule(usd=0.0)]))


@hookimpl
def register_providers(register: Any, settings: Any) -> None:
    register.add_provider(GatedProvider())
    register.add_model(gated_spec())
    register.add_provider(StreamingProvider())
    register.add_model(streaming_spec())



def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of encoded image bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def loopback_socket() -> tuple[socket.socket, str]:
    """A listening socket on a free 127.0.0.1 port and its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def start_app(app: web.Application, sock: socket.socket) -> web.AppRunner:
    """Serve ``app`` on ``sock`` (with its header timeout); ``await runner.cleanup()`` stops it."""
    from .keys import OPTIONS

    runner = web.AppRunner(app, shutdown_timeout=5, keepalive_timeout=app[OPTIONS].header_timeout_s)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


class RawAnswer:
    """Status, lower-cased headers and body of an answer read off a raw connection."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        import orjson

        return orjson.loads(self.body)


async def raw_exchange(base_url: str, head: bytes, body: AsyncIterable[bytes] | None = None,
                       timeout: float = 60) -> RawAnswer:
    """Send ``head`` then ``body``'s chunks until the server answers; its answer (sending stops)."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)

    async def pump() -> None:
        writer.write(head)
        await writer.drain()
        if body is None:
            return
        async for chunk in body:
            writer.write(chunk)
            await writer.drain()

    sending = asyncio.ensure_future(pump())
    try:
        async with asyncio.timeout(timeout):
            status_line = await reader.readline()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            data = await reader.readexactly(int(headers.get("content-length", "0")))
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await sending
        writer.close()
    return RawAnswer(int(status_line.split()[1]), headers, data)
