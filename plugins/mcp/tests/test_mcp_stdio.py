"""The official MCP client spawns ``imagegate serve mcp`` and drives it over stdio (placeholder model)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pybase64
import pytest
from mcp import Client, MCPError

from .support import serve_stdio


async def test_tools_and_schemas(tmp_path: Path) -> None:
    async with serve_stdio(tmp_path) as stdio_client:
        await _tools_and_schemas(stdio_client)


async def _tools_and_schemas(stdio_client: Client) -> None:
    assert stdio_client.server_info is not None and stdio_client.server_info.name == "imagegate"
    tools = {tool.name: tool for tool in (await stdio_client.list_tools()).tools}
    # no provider key is set: only the placeholder model is offered, so no per-model tool
    assert set(tools) == {"generate_image", "edit_image", "create_variation", "list_available_models",
                          "describe_model", "transform_image", "get_job", "cancel_job", "list_jobs"}
    props = tools["generate_image"].input_schema["properties"]
    assert props["params"]["type"] == "object" and "output_format" not in props
    assert props["deliver"]["default"] == "link"
    assert props["n"]["minimum"] == 1
    assert tools["list_available_models"].annotations.read_only_hint is True
    listed = await stdio_client.call_tool("list_available_models", {})
    ids = {model["id"]: model for model in listed.structured_content["models"]}
    assert ids["placeholder"]["ready"] is True


async def test_generate_in_every_delivery_mode(tmp_path: Path) -> None:
    async with serve_stdio(tmp_path) as stdio_client:
        await _generate_in_every_delivery_mode(stdio_client, tmp_path)


async def _generate_in_every_delivery_mode(stdio_client: Client, tmp_path: Path) -> None:
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    results: dict[str, Any] = {}
    for deliver in ("link", "preview", "full"):
        results[deliver] = await stdio_client.call_tool(
            "generate_image", {"prompt": "a red fox", "size": "256x256", "params": {"seed": 7}, "deliver": deliver},
            progress_callback=on_progress)
    for deliver, result in results.items():
        assert result.is_error is False, deliver
        data = result.structured_content
        image = data["images"][0]
        assert (data["model"], data["provider"]) == ("placeholder", "placeholder")
        assert Path(image["path"]).is_file() and Path(image["path"]).is_relative_to(tmp_path)
        assert hashlib.sha256(Path(image["path"]).read_bytes()).hexdigest() == image["sha256"]
        assert (image["width"], image["height"], image["mime_type"]) == (256, 256, "image/png")
        assert json.loads(result.content[0].text) == data
    kinds = {deliver: [block.type for block in result.content] for deliver, result in results.items()}
    assert kinds["link"] == ["text", "resource_link"]
    assert kinds["preview"] == ["text", "resource_link", "image"]
    assert kinds["full"] == ["text", "image"]
    preview = pybase64.b64decode(results["preview"].content[2].data)
    assert len(preview) <= 4096
    full = results["full"].content[1]
    image = results["full"].structured_content["images"][0]
    assert hashlib.sha256(pybase64.b64decode(full.data)).hexdigest() == image["sha256"]
    read = await stdio_client.read_resource(image["uri"])
    assert hashlib.sha256(pybase64.b64decode(read.contents[0].blob)).hexdigest() == image["sha256"]
    assert any(message.startswith("rendering") for message in seen)


async def test_errors_and_edits(tmp_path: Path) -> None:
    async with serve_stdio(tmp_path) as stdio_client:
        await _errors_and_edits(stdio_client, tmp_path)


async def _errors_and_edits(stdio_client: Client, tmp_path: Path) -> None:
    bad = await stdio_client.call_tool("generate_image", {"prompt": "x", "size": "10x10"})
    assert bad.is_error is True
    error = json.loads(bad.content[0].text)["error"]
    assert bad.structured_content is None
    assert (error["code"], error["param"], error["retryable"]) == ("invalid_request", "size", False)
    made = await stdio_client.call_tool("generate_image", {"prompt": "a cat", "size": "128x128"})
    image_id = made.structured_content["images"][0]["id"]
    path = Path(made.structured_content["images"][0]["path"])
    inline = pybase64.b64encode(path.read_bytes()).decode()
    copy = tmp_path / "input.png"
    copy.write_bytes(path.read_bytes())
    for ref in (image_id, inline, str(copy)):
        edited = await stdio_client.call_tool("edit_image", {"prompt": "add a hat", "images": [ref]})
        assert edited.is_error is False, edited.content[0].text
        assert edited.structured_content["images"][0]["id"] != image_id
    varied = await stdio_client.call_tool("create_variation", {"image": image_id, "n": 2})
    assert len(varied.structured_content["images"]) == 2
    with pytest.raises(MCPError) as missing:
        await stdio_client.read_resource("imagegate://images/img_20200101_aaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert missing.value.code == -32002


async def test_stdout_carries_only_protocol(tmp_path: Path) -> None:
    import asyncio

    env = {key: value for key, value in os.environ.items() if not key.startswith(("STORAGE__", "MCP__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"),
               LOGGING__LEVEL="DEBUG")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "generate_image", "arguments": {"prompt": "a boat", "size": "64x64"}}},
    ]
    lines: list[dict[str, Any]] = []
    try:
        process.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
        await process.stdin.drain()
        async with asyncio.timeout(60):
            while not any(line.get("id") == 2 for line in lines):
                raw = await process.stdout.readline()
                assert raw, "server closed stdout"
                lines.append(json.loads(raw))
        process.stdin.close()
        async with asyncio.timeout(30):
            errors = await process.stderr.read()
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert all(line["jsonrpc"] == "2.0" for line in lines)
    assert lines[-1]["result"]["isError"] is False
    assert b"imagegate" in errors  # the logs went to stderr


async def test_malformed_lines_are_answered_not_dropped(tmp_path: Path) -> None:
    """A line that is not JSON gets a -32700 parse error, a JSON line that is not JSON-RPC a -32600
    (both with id null, as JSON-RPC 2.0 says), and the session goes on."""
    import asyncio

    env = {key: value for key, value in os.environ.items() if not key.startswith(("STORAGE__", "MCP__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    try:
        process.stdin.write(b'{"jsonrpc": "2.0", "id": 0, "method": \n' + json.dumps(initialize).encode()
                            + b'\n{"hello": "world"}\n')
        await process.stdin.drain()
        async with asyncio.timeout(60):
            lines = [json.loads(await process.stdout.readline()) for _ in range(3)]
    finally:
        process.kill()
        await process.wait()
    errors = [line for line in lines if "error" in line]  # the answers may come in any order
    assert errors[0] == {"jsonrpc": "2.0", "id": None,
                         "error": {"code": -32700, "message": "Parse error: the line is not JSON"}}
    assert (errors[1]["id"], errors[1]["error"]["code"]) == (None, -32600)
    (answer,) = [line for line in lines if "result" in line]
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "imagegate"
