"""Long generations over MCP with the real Replicate plugin and ``FakeReplicate``: a prediction kept
``processing`` makes the call come back ``pending`` at ``MCP__SOFT_DEADLINE_S``; ``get_job`` then
returns the images once the test lets the prediction finish, and ``cancel_job`` cancels the
prediction upstream. Over stdio (a real ``imagegate serve mcp`` child) and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from imagegate_mcp.testing import serve_streamable_http
from mcp import Client, StdioServerParameters

JOB_ENV = {"MCP__SOFT_DEADLINE_S": "0.5", "PROVIDERS__REPLICATE__POLL_INTERVAL_S": "0.05",
           "PROVIDERS__REPLICATE__POLL_MAX_INTERVAL_S": "0.1"}


@asynccontextmanager
async def stdio_client(env: dict[str, str]) -> AsyncIterator[Client]:
    script = Path(sys.executable).with_name("imagegate")
    command, args = (str(script), []) if script.is_file() else (
        sys.executable, ["-c", "from imagegate.cli import main; main()"])
    params = StdioServerParameters(command=command, args=[*args, "serve", "mcp"], env=env)
    async with Client(params, mode="legacy") as client:
        yield client


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
