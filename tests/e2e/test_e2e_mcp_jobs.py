"""Long generations over MCP with the real Replicate plugin and ``FakeReplicate``: a prediction kept
``processing`` makes the call come back ``pending`` at ``MCP__SOFT_DEADLINE_S``; ``get_job`` then
returns the images once the test lets the prediction finish, and ``cancel_job`` cancels the
prediction upstream. Over stdio (a real ``imagegate serve mcp`` child) and streamable HTTP. The
same through MCP tasks over stdio: 2025-11-25 (bare JSON lines) and the 2026-07-28 extension."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from imagegate_mcp.testing import TaskHandle, TasksExtension, get_task, serve_streamable_http
from mcp import Client, StdioServerParameters
from mcp_types import CancelTaskRequest, CancelTaskRequestParams
from pydantic import TypeAdapter

JOB_ENV = {"MCP__SOFT_DEADLINE_S": "0.5", "PROVIDERS__REPLICATE__POLL_INTERVAL_S": "0.05",
           "PROVIDERS__REPLICATE__POLL_MAX_INTERVAL_S": "0.1"}


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("imagegate")
    command = [str(script)] if script.is_file() else [sys.executable, "-c", "from imagegate.cli import main; main()"]
    return [*command, "serve", "mcp"]


@asynccontextmanager
async def stdio_client(env: dict[str, str], *, mode: str = "legacy", **options: Any) -> AsyncIterator[Client]:
    command, *args = serve_command()
    params = StdioServerParameters(command=command, args=args, env=env)
    async with Client(params, mode=mode, **options) as client:
        yield client


class RawStdio:
    """JSON-RPC lines to and from an ``imagegate serve mcp`` child, as a 2025-11-25 tasks client sends them."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0

    async def notify(self, method: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}).encode() + b"\n")
        await self.process.stdin.drain()

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()
        while True:
            answer = json.loads(await self.process.stdout.readline())
            if answer.get("id") == self.next_id:
                assert "result" in answer, answer
                return answer["result"]  # type: ignore[no-any-return]


@asynccontextmanager
async def raw_stdio(env: dict[str, str]) -> AsyncIterator[RawStdio]:
    process = await asyncio.create_subprocess_exec(
        *serve_command(), env={**os.environ, **env}, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        yield RawStdio(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            async with asyncio.timeout(20):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def pending_then_images(client: Client, fake_replicate: Any) -> tuple[dict[str, Any], Any]:
    """A fluxdev call pending at the soft deadline, then get_job once the prediction may finish."""
    fake_replicate.keep_processing = True
    pending = await client.call_tool("generate-fluxdev", {"prompt": "a slow fox"})
    body: dict[str, Any] = pending.structured_content or {}
    still = await client.call_tool("get_job", {"job_id": body["job_id"]})
    assert pending.is_error is False and body["status"] == "pending"
    assert still.structured_content["status"] == "pending"
    assert "get_job" in pending.content[1].text
    fake_replicate.let_finish()
    done = await client.call_tool("get_job", {"job_id": body["job_id"], "wait_s": 30})
    return body, done


async def pending_then_cancel(client: Client, fake_replicate: Any) -> dict[str, Any]:
    fake_replicate.keep_processing = True
    job_id = (await client.call_tool("generate-fluxdev", {"prompt": "never mind"})).structured_content["job_id"]
    canceled = await client.call_tool("cancel_job", {"job_id": job_id})
    listed = (await client.call_tool("list_jobs", {"limit": 2})).structured_content["jobs"]
    assert canceled.structured_content == {"job_id": job_id, "status": "canceled"}
    assert (listed[0]["job_id"], listed[0]["status"]) == (job_id, "canceled")
    return canceled.structured_content


def images_of(result: Any) -> list[dict[str, Any]]:
    assert result.is_error is False, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content["images"]


async def test_stdio_pending_get_job_and_cancel(upstream_env: dict[str, str], fake_replicate: Any) -> None:
    async with asyncio.timeout(90), stdio_client({**upstream_env, **JOB_ENV}) as client:
        _, done = await pending_then_images(client, fake_replicate)
        await pending_then_cancel(client, fake_replicate)
    [image] = images_of(done)
    assert Path(image["path"]).is_file() and done.structured_content["model"] == "flux-dev"
    assert [create.body["input"]["prompt"] for create in fake_replicate.creates] == ["a slow fox", "never mind"]
    assert [p.record["status"] for p in fake_replicate.predictions.values()] == ["succeeded", "canceled"]
    assert len(fake_replicate.cancels) == 1 and fake_replicate.schema_errors == []


async def test_http_pending_get_job_and_cancel(env_gateway: Any, upstream_env: dict[str, str],
                                               fake_replicate: Any) -> None:
    gateway = await env_gateway({**upstream_env, **JOB_ENV})
    async with serve_streamable_http(gateway) as url, Client(url) as client:
        pending, done = await pending_then_images(client, fake_replicate)
        await pending_then_cancel(client, fake_replicate)
    [image] = images_of(done)
    assert image["url"] and image["path"] is None
    assert (await gateway.jobs.get(pending["job_id"], "local"))["status"] == "succeeded"
    assert [p.record["status"] for p in fake_replicate.predictions.values()] == ["succeeded", "canceled"]
    assert len(fake_replicate.cancels) == 1 and fake_replicate.schema_errors == []


async def test_stdio_legacy_tasks(upstream_env: dict[str, str], fake_replicate: Any) -> None:
    fake_replicate.keep_processing = True
    fox = {"name": "generate-fluxdev", "arguments": {"prompt": "a fox"}, "task": {"ttl": 60000}}
    async with asyncio.timeout(90), raw_stdio({**upstream_env, **JOB_ENV}) as client:
        initialized = await client.call("initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {"tasks": {}},
            "clientInfo": {"name": "tasks-test", "version": "1"}})
        await client.notify("notifications/initialized")
        tools = {tool["name"]: tool for tool in (await client.call("tools/list"))["tools"]}
        first = (await client.call("tools/call", fox))["task"]
        working = await client.call("tasks/get", {"taskId": first["taskId"]})
        canceled = await client.call("tasks/cancel", {"taskId": first["taskId"]})
        second = (await client.call("tools/call", fox))["task"]
        fake_replicate.let_finish()
        payload = await client.call("tasks/result", {"taskId": second["taskId"]})
        listed = await client.call("tasks/list")
    assert initialized["capabilities"]["tasks"]["requests"] == {"tools": {"call": {}}}
    assert tools["generate-fluxdev"]["execution"] == {"taskSupport": "optional"}
    assert (working["status"], canceled["status"]) == ("working", "cancelled")
    [image] = payload["structuredContent"]["images"]
    assert Path(image["path"]).is_file() and payload["isError"] is False
    assert [task["taskId"] for task in listed["tasks"]] == [second["taskId"], first["taskId"]]
    assert [p.record["status"] for p in fake_replicate.predictions.values()] == ["canceled", "succeeded"]
    assert len(fake_replicate.cancels) == 1 and fake_replicate.schema_errors == []


async def test_stdio_extension_tasks(upstream_env: dict[str, str], fake_replicate: Any) -> None:
    fake_replicate.keep_processing = True
    env = {**upstream_env, **JOB_ENV}
    async with asyncio.timeout(90), stdio_client(env, mode="auto", extensions=[TasksExtension()]) as client:
        handle = await client.session.call_tool("generate-fluxdev", {"prompt": "a fox"}, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        working = await get_task(client, handle.task_id)
        await client.session.send_request(CancelTaskRequest(params=CancelTaskRequestParams(task_id=handle.task_id)),
                                          TypeAdapter(dict[str, Any]))
        canceled = await get_task(client, handle.task_id)
        fake_replicate.let_finish()
        polled = await client.call_tool("generate-fluxdev", {"prompt": "a cat"})  # the extension polls
        assert client.protocol_version == "2026-07-28"
    assert (working["status"], canceled["status"]) == ("working", "cancelled")
    assert polled.is_error is False and Path(polled.structured_content["images"][0]["path"]).is_file()
    assert [p.record["status"] for p in fake_replicate.predictions.values()] == ["canceled", "succeeded"]
