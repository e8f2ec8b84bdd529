"""Long generations over streamable HTTP: past ``MCP__SOFT_DEADLINE_S`` a call returns ``pending``
with its job id and the job goes on; ``get_job`` (long-poll), ``cancel_job`` and ``list_jobs``;
jobs belong to the caller's key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from imagegate.testing import add_virtual_key
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from .support import FakeUpstream, RunningServer

pytestmark = pytest.mark.parametrize("mcp_options", [{"soft_deadline_s": 0.2}])


@asynccontextmanager
async def client_with_key(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (create_mcp_http_client(headers=headers) as http,
                Client(streamable_http_client(url, http_client=http)) as client):
        yield client


async def start_pending(client: Client, upstream: FakeUpstream, tool: str = "generate-fluxdev") -> dict[str, Any]:
    """Call ``tool`` on a hanging upstream: the call comes back pending at the soft deadline."""
    upstream.hang = True
    result = await client.call_tool(tool, {"prompt": "slow", "deliver": "preview"})
    assert result.is_error is False
    body: dict[str, Any] = result.structured_content or {}
    assert json.loads(result.content[0].text) == body
    assert upstream.started.is_set() and not upstream.cancelled.is_set()  # still running upstream
    return body


async def test_a_slow_call_returns_pending_and_get_job_returns_its_images(http_server: RunningServer,
                                                                          upstream: FakeUpstream) -> None:
    heartbeat = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("working:"):
            heartbeat.set()

    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        pending = await start_pending(client, upstream)
        job_id = pending["job_id"]
        first_look = await client.call_tool("get_job", {"job_id": job_id})
        waiting = asyncio.create_task(client.call_tool("get_job", {"job_id": job_id, "wait_s": 30},
                                                       progress_callback=on_progress))
        async with asyncio.timeout(20):
            await heartbeat.wait()  # progress flows while get_job waits
        upstream.release.set()
        done = await waiting
    assert pending["status"] == "pending" and job_id.startswith("job_") and pending["model"] == "flux-dev"
    assert list(Draft202012Validator(tools["generate-fluxdev"].output_schema).iter_errors(pending)) == []
    assert f'"job_id": "{job_id}", "wait_s": 1' in pending_text(first_look)
    assert first_look.structured_content["status"] == "pending"
    assert done.is_error is False and upstream.calls == 1
    image = done.structured_content["images"][0]
    assert image["id"] and image["url"] and done.structured_content["model"] == "flux-dev"
    assert [block.type for block in done.content] == ["text", "resource_link", "image"]  # deliver=preview kept
    assert list(Draft202012Validator(tools["get_job"].output_schema).iter_errors(done.structured_content)) == []
    record = await http_server.gateway.jobs.get(job_id, "local")  # the HTTP API and CLI see it too
    assert record["status"] == "succeeded"


def pending_text(result: Any) -> str:
    return result.content[1].text


async def test_cancel_job_cancels_the_running_job(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        job_id = (await start_pending(client, upstream))["job_id"]
        canceled = await client.call_tool("cancel_job", {"job_id": job_id})
        async with asyncio.timeout(20):
            await upstream.cancelled.wait()
        after = await client.call_tool("get_job", {"job_id": job_id, "wait_s": 5})
    assert canceled.structured_content == {"job_id": job_id, "status": "canceled"}
    assert after.is_error is False and after.structured_content["status"] == "canceled"
    assert not upstream.finished.is_set()


async def test_list_jobs_newest_first(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        await client.call_tool("generate-fluxdev", {"prompt": "quick"})
        job_id = (await start_pending(client, upstream))["job_id"]
        listed = (await client.call_tool("list_jobs", {"limit": 5})).structured_content
        one = (await client.call_tool("list_jobs", {"limit": 1})).structured_content
        upstream.release.set()
        await client.call_tool("get_job", {"job_id": job_id, "wait_s": 30})
    newest, older = listed["jobs"]
    assert newest["job_id"] == job_id and newest["status"] in ("queued", "running")
    assert newest["prompt"] == "slow" and newest["operation"] == "generate" and newest["model"] == "flux-dev"
    assert older["status"] == "succeeded" and len(older["images"]) == 1
    assert one["jobs"] == [newest]


@pytest.mark.parametrize("api_keys", [["sk-operator-0123456789"]])
async def test_a_job_belongs_to_its_key(http_server: RunningServer, upstream: FakeUpstream) -> None:
    a_key, b_key = await add_virtual_key(http_server.gateway, "a"), await add_virtual_key(http_server.gateway, "b")
    async with client_with_key(http_server.url, a_key) as alice:
        job_id = (await start_pending(alice, upstream))["job_id"]
        async with client_with_key(http_server.url, b_key) as bob:
            foreign = await bob.call_tool("get_job", {"job_id": job_id})
            refused = await bob.call_tool("cancel_job", {"job_id": job_id})
            bobs = (await bob.call_tool("list_jobs", {})).structured_content
        upstream.release.set()
        mine = await alice.call_tool("get_job", {"job_id": job_id, "wait_s": 30})
    for result in (foreign, refused):
        assert result.is_error is True
        error = json.loads(result.content[0].text)["error"]
        assert error["code"] == "not_found" and job_id in error["message"]
    assert bobs == {"jobs": []} and mine.structured_content["images"]
    # the HTTP API finds it under the same key
    owner = (await http_server.gateway.keys.identify(a_key)).owner
    assert (await http_server.gateway.jobs.get(job_id, owner))["status"] == "succeeded"


async def test_a_failed_job_is_the_calls_error(http_server: RunningServer, upstream: FakeUpstream) -> None:
    from imagegate._errors import UpstreamError

    async with Client(http_server.url) as client:
        job_id = (await start_pending(client, upstream))["job_id"]
        upstream.error = UpstreamError("the model crashed", retryable=False)  # once released
        upstream.release.set()
        failed = await client.call_tool("get_job", {"job_id": job_id, "wait_s": 30})
    assert failed.is_error is True
    assert json.loads(failed.content[0].text)["error"]["code"] == "upstream_error"


async def test_a_fast_call_is_not_pending(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        result = await client.call_tool("generate-fluxdev", {"prompt": "quick"})
    assert result.is_error is False and "status" not in result.structured_content
    assert result.structured_content["images"]
