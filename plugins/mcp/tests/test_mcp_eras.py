"""Both protocol eras on both transports: modern (2026-07-28: no ``initialize``, ``server/discover``,
per-request ``_meta``, stateless HTTP without ``Mcp-Session-Id``) and legacy (``initialize``).

The SDK's own client drives each era (``mode="legacy"``, ``"auto"`` which probes
``server/discover``, and a pinned modern version which sends its first request straight away); raw
JSON-RPC checks what the spec file says goes over the wire. On stdio the server answers a legacy
``initialize`` before the SDK has loaded (``early.py``), so a modern first line must pass it by.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pybase64
import pytest
from mcp import Client, MCPError, StdioServerParameters

from .support import FakeUpstream, RunningServer

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


def server_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("STORAGE__", "GATEWAY__", "MCP__", "INPUT__", "PROVIDERS__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"))
    return env


SERVE = [sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp"]


async def exercise(client: Client, tool: str, arguments: dict[str, Any]) -> None:
    """What every era must do alike: list, fail cleanly, succeed, read the image back."""
    if client.mode != MODERN:  # a pinned client asks nothing before its first request
        assert client.server_info is not None and client.server_info.name == "imagegate"
    tools = {t.name for t in (await client.list_tools()).tools}
    assert {"generate_image", "list_available_models", tool} <= tools
    bad = await client.call_tool(tool, {**arguments, "n": 1000})
    assert bad.is_error is True and bad.structured_content is None
    assert json.loads(bad.content[0].text)["error"]["param"] == "n"
    good = await client.call_tool(tool, arguments)
    assert good.is_error is False, good.content[0].text
    image = good.structured_content["images"][0]
    read = await client.read_resource(image["uri"])
    assert len(pybase64.b64decode(read.contents[0].blob)) == image["bytes"]
    with pytest.raises(MCPError) as missing:
        await client.read_resource("imagegate://images/img_20200101_aaaaaaaaaaaaaaaaaaaaaaaaaa")
    # resource not found: -32002 for handshake-era clients, invalid params (-32602) from 2026-07-28 on
    assert missing.value.error.code == (-32002 if client.protocol_version == LEGACY else -32602)


@pytest.mark.parametrize(("mode", "served"), [("legacy", LEGACY), ("auto", MODERN), (MODERN, MODERN)])
async def test_both_eras_over_stdio(tmp_path: Path, mode: str, served: str) -> None:
    params = StdioServerParameters(command=SERVE[0], args=SERVE[1:], env=server_env(tmp_path))
    async with asyncio.timeout(90), Client(params, mode=mode) as client:  # type: ignore[arg-type]
        assert client.protocol_version == served
        await exercise(client, "generate_image", {"prompt": "a fox", "size": "64x64"})


@pytest.mark.parametrize(("mode", "served"), [("legacy", LEGACY), ("auto", MODERN), (MODERN, MODERN)])
async def test_both_eras_over_streamable_http(http_server: RunningServer, upstream: FakeUpstream, mode: str,
                                              served: str) -> None:
    async with Client(http_server.url, mode=mode) as client:  # type: ignore[arg-type]
        assert client.protocol_version == served
        await exercise(client, "generate-fluxdev", {"prompt": "a fox"})
    assert upstream.calls == 1  # the refused call never went upstream


@asynccontextmanager
async def raw_stdio(tmp_path: Path) -> AsyncIterator[Any]:
    """``imagegate serve mcp`` on pipes: ``ask(message)`` writes one line and returns the answer to its id."""
    process = await asyncio.create_subprocess_exec(
        *SERVE, env=server_env(tmp_path), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    async def ask(message: dict[str, Any]) -> dict[str, Any]:
        stdin.write(json.dumps(message).encode() + b"\n")
        await stdin.drain()
        async with asyncio.timeout(60):
            while True:
                answer = json.loads(await stdout.readline())
                if answer.get("id") == message["id"]:
                    return answer  # type: ignore[no-any-return]

    try:
        yield ask
    finally:
        process.kill()
        await process.wait()


async def test_raw_modern_session_over_stdio(tmp_path: Path) -> None:
    """``server/discover`` as the very first line (the early ``initialize`` path lets it by), then
    stateless requests each carrying ``_meta``; a later ``initialize`` is refused naming the versions."""
    async with raw_stdio(tmp_path) as ask:
        discover = await ask({"jsonrpc": "2.0", "id": "d", "method": "server/discover", "params": {"_meta": META}})
        listed = await ask({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": META}})
        called = await ask({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "_meta": META, "name": "generate_image", "arguments": {"prompt": "a fox", "size": "64x64"}}})
        refused = await ask({"jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    result = discover["result"]
    assert result["supportedVersions"] == [MODERN] and result["resultType"] == "complete"
    assert {"tools", "resources"} <= set(result["capabilities"])
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "imagegate"
    assert {"ttlMs", "cacheScope"} <= set(listed["result"])
    assert called["result"]["isError"] is False and called["result"]["resultType"] == "complete"
    assert called["result"]["structuredContent"]["model"] == "placeholder"
    assert refused["error"]["code"] == -32022  # UnsupportedProtocolVersion on a modern connection


async def test_raw_modern_request_over_streamable_http(http_server: RunningServer) -> None:
    """One POST, one answer, no session: no ``initialize`` and no ``Mcp-Session-Id``."""
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
               "Mcp-Method": "tools/call", "Mcp-Name": "generate-fluxdev"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "_meta": META, "name": "generate-fluxdev", "arguments": {"prompt": "a fox"}}}
    async with aiohttp.ClientSession() as session:
        async with session.post(http_server.url, json=body, headers=headers) as response:
            assert response.status == 200
            assert "Mcp-Session-Id" not in response.headers
            answer = await response.json(content_type=None)
        mismatch = {**headers, "MCP-Protocol-Version": LEGACY}
        async with session.post(http_server.url, json=body, headers={**mismatch, "Mcp-Session-Id": "x"}) as response:
            assert response.status in (400, 404)
    assert answer["id"] == 1 and answer["result"]["isError"] is False
    assert answer["result"]["structuredContent"]["images"][0]["url"].startswith(
        http_server.url.removesuffix("/mcp") + "/files/")
