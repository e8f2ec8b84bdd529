"""Every upstream body read through the outbound session stops at the limit, after decompression,
however it is read; memory stays bounded (measured with tracemalloc) and normal answers pass."""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from imagegate._errors import UpstreamError
from imagegate._http_client import new_session

LIMIT = 1 << 20  # 1 MiB
BOMB_SIZE = 256 << 20  # what the gzip bomb inflates to: 256 MiB of zeros


def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, wbits=31)  # gzip framing
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(BOMB_SIZE >> 20)) + packer.flush()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb()


@pytest.fixture
async def upstream(bomb: bytes) -> AsyncIterator[str]:
    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    async def huge_error(request: web.Request) -> web.StreamResponse:
        """A 500 whose body never ends (streamed: the server holds nothing)."""
        response = web.StreamResponse(status=500, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        line = b'{"error": "' + b"x" * 60_000 + b'"}\n'
        for _ in range(200_000_000 // len(line)):  # 200 MB, unless the client hangs up first
            await response.write(line)
        return response

    async def normal(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"b64_json": "A" * 500_000}]})

    app = web.Application()
    app.router.add_get("/bomb", gzipped)
    app.router.add_get("/error", huge_error)
    app.router.add_get("/ok", normal)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def _read(response: aiohttp.ClientResponse) -> Any:
    return await response.read()


async def _json(response: aiohttp.ClientResponse) -> Any:
    return await response.json()


async def _lines(response: aiohttp.ClientResponse) -> Any:
    return [line async for line in response.content]  # how SSE is read


async def _chunks(response: aiohttp.ClientResponse) -> Any:
    return [chunk async for chunk, _ in response.content.iter_chunks()]  # streamed base64 decoding


async def _chunked(response: aiohttp.ClientResponse) -> Any:
    return [chunk async for chunk in response.content.iter_chunked(1 << 16)]


async def _any(response: aiohttp.ClientResponse) -> Any:
    return [chunk async for chunk in response.content.iter_any()]


async def _read_n(response: aiohttp.ClientResponse) -> Any:
    chunks = []
    while chunk := await response.content.read(1 << 30):  # asking for a gigabyte at a time
        chunks.append(chunk)
    return chunks


READERS = [_read, _json, _lines, _chunks, _chunked, _any, _read_n]
Reader = Callable[[aiohttp.ClientResponse], Awaitable[Any]]


@pytest.mark.parametrize("path", ["/bomb", "/error"])
@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__.strip("_"))
async def test_a_body_over_the_limit_is_refused_with_bounded_memory(upstream: str, path: str,
                                                                    reader: Reader) -> None:
    async with new_session(max_body_bytes=LIMIT) as session:
        tracemalloc.start()
        try:
            async with session.get(f"{upstream}{path}") as response:
                with pytest.raises(UpstreamError) as caught:
                    await reader(response)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert not caught.value.retryable and caught.value.code == "upstream_error"
    if (reader, path) == (_lines, "/bomb"):  # one endless line: aiohttp's own line cap comes first
        assert "has a line longer than" in caught.value.message
    else:
        assert f"over the {LIMIT} byte limit" in caught.value.message and "MAX_DOWNLOAD_MB" in caught.value.message
    assert peak < 12 * LIMIT, f"peak {peak} bytes"


EXPECTED = {"data": [{"b64_json": "A" * 500_000}]}


@pytest.mark.parametrize("reader", [_read, _json, _chunks, _lines], ids=lambda r: r.__name__.strip("_"))
async def test_an_answer_under_the_limit_is_read_as_usual(upstream: str, reader: Reader) -> None:
    async with new_session(max_body_bytes=LIMIT) as session, session.get(f"{upstream}/ok") as response:
        body = await reader(response)
    if isinstance(body, list):
        body = b"".join(body)
    assert (body if isinstance(body, dict) else json.loads(body)) == EXPECTED


@pytest.mark.parametrize(("limit", "refused"), [(250_000, True), (LIMIT, False)])
async def test_inside_a_body_limit_block_its_limit_applies(upstream: str, limit: int, refused: bool) -> None:
    from imagegate._bounded_body import body_limit

    async with new_session(max_body_bytes=100) as session:
        with body_limit(limit):
            async with session.get(f"{upstream}/ok") as response:
                if refused:
                    with pytest.raises(UpstreamError, match=f"over the {limit} byte limit"):
                        await response.json()
                else:
                    assert await response.json() == EXPECTED
        async with session.get(f"{upstream}/ok") as response:  # outside it, the session's own
            with pytest.raises(UpstreamError, match="over the 100 byte limit"):
                await response.read()


@pytest.fixture
async def openai_like(bomb: bytes) -> AsyncIterator[str]:
    """``POST /v1/images/generations`` answering a gzip bomb (``/bomb/v1``) or an endless 500."""
    async def generations(request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.match_info["kind"] == "bomb":
            return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
        response = web.StreamResponse(status=500, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(20_000):  # 200 MB, unless the client hangs up first
            await response.write(b" " * 10_000)
        return response

    app = web.Application()
    app.router.add_post("/{kind}/v1/images/generations", generations)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


@pytest.mark.parametrize("kind", ["bomb", "error"])
async def test_a_provider_plugin_gets_its_own_limit_without_a_change(tmp_path: Any, openai_like: str, kind: str) -> None:
    imagegate_openai = pytest.importorskip("imagegate_openai")
    from imagegate._models import ImageRequest
    from imagegate.testing import opened_gateway, temp_settings

    settings = temp_settings(tmp_path, providers={"openai": {
        "api_key": "sk-test", "base_url": f"{openai_like}/{kind}/v1", "max_download_mb": 1, "max_retries": 0}})
    async with opened_gateway(settings, ("openai", imagegate_openai)) as gateway:
        tracemalloc.start()
        try:
            with pytest.raises(UpstreamError) as caught:
                await gateway.run("generate", ImageRequest(prompt="a cat", model="gpt-image-2.6-sunburst"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert caught.value.provider == "openai" and not caught.value.retryable
    assert f"over the {1 << 20} byte limit" in caught.value.message
    assert peak < 12 * LIMIT, f"peak {peak} bytes"
