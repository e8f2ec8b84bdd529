"""``initialize`` answered before the SDK loads: byte for byte the SDK's answer, and the session still works.

The SDK's own answers come from ``imagegate serve mcp`` spawned with the early path off
(``IMAGEGATE_MCP_EARLY_INITIALIZE=0``); the early ones from :class:`EarlyStdio` on pipes (no SDK
involved) and from the server spawned with the path on.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from imagegate_mcp.early import CAPABILITIES, HANDSHAKE_PROTOCOL_VERSIONS, EarlyStdio


def initialize(request_id: int | str, version: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}, **params}}


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


REQUESTS = [
    initialize(1, "2025-06-18"),
    initialize("a-1", "2024-11-05", capabilities={"roots": {"listChanged": True}, "sampling": {}}),
    initialize(7, "2026-07-28", clientInfo={"name": "t", "version": "1", "title": "T"}, _meta={}),
    initialize(8, "1999-01-01"),
]


@asynccontextmanager
async def spawned(tmp_path: Path, *, early: bool) -> AsyncIterator[asyncio.subprocess.Process]:
    """``imagegate serve mcp`` as a child (debug logs on stderr), killed at exit even on failure."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("STORAGE__", "MCP__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"),
               LOGGING__LEVEL="DEBUG", IMAGEGATE_MCP_EARLY_INITIALIZE="1" if early else "0")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def answer(process: asyncio.subprocess.Process, request_id: int | str) -> tuple[bytes, list[bytes]]:
    """The raw line answering ``request_id``, and the lines before it."""
    assert process.stdout is not None
    before = []
    async with asyncio.timeout(60):
        while True:
            raw = await process.stdout.readline()
            assert raw, "the server closed stdout"
            if json.loads(raw).get("id") == request_id:
                return raw, before
            before.append(raw)


async def sdk_answer(tmp_path: Path, request: dict[str, Any]) -> bytes:
    async with spawned(tmp_path, early=False) as process:
        assert process.stdin is not None
        process.stdin.write(line(request))
        return (await answer(process, request["id"]))[0]


@contextmanager
def early_on_pipes() -> Iterator[tuple[EarlyStdio, int, int]]:
    """EarlyStdio on two pipes: (early, fd the client writes to, fd the client reads from)."""
    client_to_server, server_stdin = os.pipe()[::-1]  # (write end, read end)
    server_stdout, client_from_server = os.pipe()[::-1]
    early = EarlyStdio.start(stdin=server_stdin, stdout=server_stdout)
    assert early is not None
    try:
        yield early, client_to_server, client_from_server
    finally:
        for fd in (client_to_server, server_stdin, server_stdout, client_from_server):
            os.close(fd)


def read_lines(fd: int, count: int = 1) -> list[bytes]:
    data = b""
    while data.count(b"\n") < count:
        assert select.select([fd], [], [], 30)[0], f"no line within 30 s; got {data!r}"
        chunk = os.read(fd, 65536)
        assert chunk, "pipe closed"
        data += chunk
    return data.splitlines(keepends=True)


def nothing_written(fd: int) -> bool:
    os.set_blocking(fd, False)
    try:
        os.read(fd, 1)
    except BlockingIOError:
        return True
    return False


def test_constants_are_the_sdks() -> None:
    from imagegate_mcp.server import build_server
    from mcp_types.methods import serialize_server_result
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS as SDK_VERSIONS

    loop = asyncio.new_event_loop()
    try:
        server = build_server(loop.create_future())
        capabilities = server.create_initialization_options().capabilities.model_dump(by_alias=True, exclude_none=True)
    finally:
        loop.close()
    assert HANDSHAKE_PROTOCOL_VERSIONS == SDK_VERSIONS
    for version in SDK_VERSIONS:  # the answer as each handshake version's surface shapes it
        wire = serialize_server_result("initialize", version, {
            "protocolVersion": version, "capabilities": capabilities, "serverInfo": {"name": "n", "version": "1"}})
        assert wire["capabilities"] == CAPABILITIES


async def test_early_answer_is_the_sdks_byte_for_byte(tmp_path: Path) -> None:
    sdk = await asyncio.gather(*(sdk_answer(tmp_path / str(i), request) for i, request in enumerate(REQUESTS)))
    for request, expected in zip(REQUESTS, sdk, strict=True):
        with early_on_pipes() as (early, to_server, from_server):
            os.write(to_server, line(request))
            assert read_lines(from_server) == [expected]
            reader, _ = early.streams()
            assert await reader.readline() == line(request).decode()  # the SDK sees the request too
            assert early.answered is not None and early.answered[0] == request["id"]
    negotiated = [json.loads(raw)["result"]["protocolVersion"] for raw in sdk]
    assert negotiated == ["2025-06-18", "2024-11-05", "2025-11-25", "2025-11-25"]


@pytest.mark.parametrize("first", [
    b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}\n',
    line(initialize(1, "2025-06-18", clientInfo={"name": "t"})),  # no version: the SDK must answer the error
    line(initialize(True, "2025-06-18")),
    line({**initialize(2, "2025-06-18"), "extra": 1}),
    b"not json\n",
    b"\n",
])
async def test_other_first_lines_are_left_to_the_sdk(first: bytes) -> None:
    rest = b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n'
    with early_on_pipes() as (early, to_server, from_server):
        os.write(to_server, first + rest)
        reader, _ = early.streams()
        assert [await reader.readline(), await reader.readline()] == [first.decode(), rest.decode()]
        assert early.answered is None
        assert nothing_written(from_server)


async def test_only_the_sdks_duplicate_answer_is_dropped() -> None:
    with early_on_pipes() as (early, to_server, from_server):
        os.write(to_server, line(initialize(5, "2025-06-18")))
        [early_line] = read_lines(from_server)
        reader, writer = early.streams()
        await reader.readline()
        notice = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n'
        other_id = '{"jsonrpc":"2.0","id":"5","result":{}}\n'
        for text in (notice, early_line.decode(), other_id, early_line.decode()):
            await writer.write(text)
            await writer.flush()
        assert read_lines(from_server, 3) == [notice.encode(), other_id.encode(), early_line]


async def test_session_works_after_the_early_answer(tmp_path: Path) -> None:
    request = initialize(1, "2025-06-18")
    expected = asyncio.ensure_future(sdk_answer(tmp_path / "sdk", request))
    try:
        async with spawned(tmp_path / "early", early=True) as process:
            assert process.stdin is not None and process.stderr is not None
            process.stdin.write(line(request))
            first, _ = await answer(process, 1)
            process.stdin.write(line({"jsonrpc": "2.0", "method": "notifications/initialized"})
                                + line({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
                                + line({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
                                    "name": "list_available_models", "arguments": {}}}))
            tools, skipped = await answer(process, 2)
            called, skipped_too = await answer(process, 3)
            process.stdin.close()
            async with asyncio.timeout(30):
                errors = await process.stderr.read()
                await process.wait()
        assert first == await expected
    finally:
        expected.cancel()
    assert {"generate_image", "list_available_models"} <= {t["name"] for t in json.loads(tools)["result"]["tools"]}
    result = json.loads(called)["result"]
    assert result["isError"] is False
    assert "placeholder" in {model["id"] for model in result["structuredContent"]["models"]}
    assert not [raw for raw in skipped + skipped_too if json.loads(raw).get("id") == 1]  # no second answer
    assert b"initialize 1 was answered before the SDK loaded" in errors
