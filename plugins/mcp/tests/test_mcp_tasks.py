"""MCP tasks over streamable HTTP: the 2025-11-25 core feature (a bare JSON-RPC client, since the
SDK's client cannot take a ``CreateTaskResult``) and the 2026-07-28 ``io.modelcontextprotocol/tasks``
extension (the SDK's client with a ``ClientExtension`` claiming ``resultType: "task"``). The task is
the gateway's job: same id, same owner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from imagegate.testing import add_virtual_key
from imagegate_mcp.testing import TaskHandle, TasksExtension, get_task
from mcp import Client, MCPError
from mcp_types import CancelTaskRequest, CancelTaskRequestParams
from pydantic import TypeAdapter

from .support import FakeUpstream, LegacyHttp, RunningServer

TASKS = TasksExtension.identifier


@asynccontextmanager
async def legacy(url: str, capabilities: dict[str, Any] | None = None,
                 key: str | None = None) -> AsyncIterator[tuple[LegacyHttp, dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as session:
        client = LegacyHttp(session, url, headers)
        initialized = await client.initialize({"tasks": {}} if capabilities is None else capabilities)
        yield client, initialized


def text_of(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(result["content"][0]["text"])  # type: ignore[no-any-return]


# 2025-11-25 ------------------------------------------------------------------------------------


async def test_legacy_tasks_are_advertised_to_the_revision_that_has_them(http_server: RunningServer) -> None:
    async with legacy(http_server.url) as (client, initialized):
        tools = {tool["name"]: tool for tool in (await client.result("tools/list"))["tools"]}
    async with legacy(http_server.url, capabilities={}) as (plain, _):
        plain_tools = {tool["name"]: tool for tool in (await plain.result("tools/list"))["tools"]}
    assert initialized["capabilities"]["tasks"] == {"cancel": {}, "list": {}, "requests": {"tools": {"call": {}}}}
    assert tools["generate-fluxdev"]["execution"] == {"taskSupport": "optional"}
    assert tools["generate_image"]["execution"] == {"taskSupport": "optional"}
    assert "execution" not in tools["list_available_models"] and "execution" not in tools["get_job"]
    assert all("execution" not in tool for tool in plain_tools.values())  # a client without tasks: as before


async def test_legacy_task_create_get_result_list(http_server: RunningServer, upstream: FakeUpstream) -> None:
    upstream.hang = True
    async with legacy(http_server.url) as (client, _):
        created = await client.result("tools/call", {"name": "generate-fluxdev", "arguments": {"prompt": "a fox"},
                                                     "task": {"ttl": 60000}})
        task_id = created["task"]["taskId"]
        async with asyncio.timeout(20):
            await upstream.started.wait()
        working = await client.result("tasks/get", {"taskId": task_id})
        result = asyncio.create_task(client.result("tasks/result", {"taskId": task_id}))
        upstream.release.set()
        payload = await result
        done = await client.result("tasks/get", {"taskId": task_id})
        listed = await client.result("tasks/list")
        missing = await client.call("tasks/get", {"taskId": "job_000000000000000000000000"})
    assert task_id.startswith("job_") and created["task"]["status"] == "working"
    assert created["task"]["createdAt"].endswith("Z") and created["task"]["ttl"] > 0
    assert working["status"] == "working" and working["taskId"] == task_id
    assert payload["isError"] is False and payload["structuredContent"]["images"][0]["url"]
    assert payload["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
    assert done["status"] == "completed"
    assert [task["taskId"] for task in listed["tasks"]] == [task_id]
    assert missing["error"]["code"] == -32602
    assert (await http_server.gateway.jobs.get(task_id, "local"))["status"] == "succeeded"


async def test_legacy_task_cancel_cancels_the_job(http_server: RunningServer, upstream: FakeUpstream) -> None:
    upstream.hang = True
    async with legacy(http_server.url) as (client, _):
        created = await client.result("tools/call", {"name": "generate-fluxdev", "arguments": {"prompt": "a fox"},
                                                     "task": {}})
        task_id = created["task"]["taskId"]
        async with asyncio.timeout(20):
            await upstream.started.wait()
        canceled = await client.result("tasks/cancel", {"taskId": task_id})
        again = await client.call("tasks/cancel", {"taskId": task_id})
        result = await client.result("tasks/result", {"taskId": task_id})
    assert canceled["status"] == "cancelled" and upstream.cancelled.is_set()
    assert again["error"]["code"] == -32602 and "terminal" in again["error"]["message"]
    assert result["structuredContent"]["status"] == "canceled"


async def test_legacy_task_errors(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with legacy(http_server.url) as (client, _):
        forbidden = await client.call("tools/call", {"name": "list_available_models", "arguments": {},
                                                     "task": {}})
        bad = await client.call("tools/call", {"name": "generate-fluxdev", "arguments": {"prompt": ""},
                                               "task": {}})
        plain = await client.result("tools/call", {"name": "generate-fluxdev", "arguments": {"prompt": "a fox"}})
    assert forbidden["error"]["code"] == -32601 and "taskSupport" in forbidden["error"]["message"]
    assert bad["error"]["code"] == -32602 and bad["error"]["data"]["param"] == "prompt"
    assert plain["structuredContent"]["images"]  # without task: an ordinary call
    assert upstream.calls == 1


@pytest.mark.parametrize("api_keys", [["sk-operator-0123456789"]])
async def test_a_task_belongs_to_its_key(http_server: RunningServer) -> None:
    a_key, b_key = await add_virtual_key(http_server.gateway, "a"), await add_virtual_key(http_server.gateway, "b")
    async with legacy(http_server.url, key=a_key) as (alice, _):
        created = await alice.result("tools/call", {"name": "generate-fluxdev", "arguments": {"prompt": "a fox"},
                                                    "task": {}})
        task_id = created["task"]["taskId"]
        async with legacy(http_server.url, key=b_key) as (bob, _):
            foreign = await bob.call("tasks/get", {"taskId": task_id})
            bobs = await bob.result("tasks/list")
        async with legacy(http_server.url, key="sk-operator-0123456789") as (operator, _):
            seen = await operator.result("tasks/get", {"taskId": task_id})  # an admin key sees every key's
        mine = await alice.result("tasks/result", {"taskId": task_id})
    assert foreign["error"]["code"] == -32602 and bobs["tasks"] == []
    assert seen["taskId"] == task_id
    assert mine["isError"] is False
    owner = (await http_server.gateway.keys.identify(a_key)).owner
    assert (await http_server.gateway.jobs.get(task_id, owner))["status"] == "succeeded"


async def test_no_tasks_before_2025_11_25(http_server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        client = LegacyHttp(session, http_server.url, version="2025-06-18")
        initialized = await client.initialize({"tasks": {}})
        tools = (await client.result("tools/list"))["tools"]
        unknown = await client.call("tasks/get", {"taskId": "job_000000000000000000000000"})
    async with legacy(http_server.url) as (current, _):
        update = await current.call("tasks/update", {"taskId": "x"})  # the 2026 extension's method
    assert "tasks" not in initialized["capabilities"]
    assert all("execution" not in tool for tool in tools)
    assert unknown["error"]["code"] == -32601 and update["error"]["code"] == -32601


# 2026-07-28: the tasks extension ---------------------------------------------------------------


async def test_extension_task_create_get_cancel(http_server: RunningServer, upstream: FakeUpstream) -> None:
    upstream.hang = True
    async with Client(http_server.url, extensions=[TasksExtension()]) as client:
        discovered = client.server_capabilities.extensions
        handle = await client.session.call_tool("generate-fluxdev", {"prompt": "a fox"}, allow_claimed=True)
        assert isinstance(handle, TaskHandle)
        working = await get_task(client, handle.task_id)
        upstream.release.set()
        async with asyncio.timeout(20):
            while (done := await get_task(client, handle.task_id))["status"] == "working":
                await asyncio.sleep(0.05)
        upstream.hang, upstream.release = True, asyncio.Event()
        second = await client.session.call_tool("generate-fluxdev", {"prompt": "a cat"}, allow_claimed=True)
        canceled = await client.session.send_request(
            CancelTaskRequest(params=CancelTaskRequestParams(task_id=second.task_id)), TypeAdapter(dict[str, Any]))
        after = await get_task(client, second.task_id)
    assert discovered == {TASKS: {}}
    assert handle.task_id.startswith("job_") and handle.status == "working" and handle.ttl_ms
    assert working["status"] == "working" and "result" not in working
    assert done["status"] == "completed" and done["result"]["structuredContent"]["images"]
    assert canceled.get("resultType") == "complete" and after["status"] == "cancelled"
    assert upstream.cancelled.is_set()


async def test_extension_client_gets_the_result_by_polling(http_server: RunningServer,
                                                           upstream: FakeUpstream) -> None:
    from imagegate._errors import UpstreamError

    async with Client(http_server.url, extensions=[TasksExtension()]) as client:
        result = await client.call_tool("generate-fluxdev", {"prompt": "a fox"})
        refused = await client.call_tool("generate-fluxdev", {"prompt": "a fox", "guidance": 99})
        upstream.error = UpstreamError("the model crashed", retryable=False)
        failed = await client.call_tool("generate-fluxdev", {"prompt": "a fox"})
    assert result.is_error is False and result.structured_content["images"]
    assert json.loads(refused.content[0].text)["error"]["param"] == "guidance"  # refused at once: no task
    assert failed.is_error is True  # a tool error is a completed task whose result says so
    assert json.loads(failed.content[0].text)["error"]["code"] == "upstream_error"
    jobs = await http_server.gateway.jobs.list("local", 10)
    assert [job["status"] for job in jobs] == ["failed", "succeeded"]  # both ran as jobs (tasks)


async def test_without_the_extension_no_task(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        result = await client.call_tool("generate-fluxdev", {"prompt": "a fox"})
        with pytest.raises(MCPError) as refused:
            await get_task(client, "job_000000000000000000000000")
    assert result.structured_content["images"]
    assert refused.value.error.code == -32021
    assert refused.value.error.data == {"requiredCapabilities": {"extensions": {TASKS: {}}}}
