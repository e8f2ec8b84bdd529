"""Virtual keys over streamable HTTP: accepted beside GATEWAY__API_KEYS, held to their models and
budget before the upstream is called, and one key cannot read another's images."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from imagegate.testing import add_virtual_key

from .support import FakeUpstream, RunningServer

pytestmark = pytest.mark.parametrize("api_keys", [["sk-operator-0123456789"]])


@asynccontextmanager
async def client_with_key(url: str, key: str) -> AsyncIterator[Client]:
    async with (create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
                Client(streamable_http_client(url, http_client=http)) as client):
        yield client



def _error(result: Any) -> dict[str, Any]:
    assert result.is_error is True and result.structured_content is None
    return json.loads(result.content[0].text)["error"]


async def test_a_virtual_key_is_held_to_its_models_and_budget(http_server: RunningServer,
                                                              upstream: FakeUpstream) -> None:
    only_flux = await add_virtual_key(http_server.gateway, "flux-only", models=["flux-dev"])
    budgeted = await add_virtual_key(http_server.gateway, "budgeted", budget_usd=5)
    async with client_with_key(http_server.url, only_flux) as client:
        made = await client.call_tool("generate-fluxdev", {"prompt": "a fern"})
        assert made.is_error is False and made.structured_content["model"] == "flux-dev"
        denied = _error(await client.call_tool("generate_image", {"prompt": "oils", "model": "acme-oils"}))
        assert denied["code"] == "permission" and denied["param"] == "model" and "flux-dev" in denied["message"]
    async with client_with_key(http_server.url, budgeted) as client:
        refused = _error(await client.call_tool("generate-fluxdev", {"prompt": "a fern"}))
        assert refused["code"] == "quota_exceeded" and "cannot be priced" in refused["message"]
    assert upstream.calls == 1  # refusals reach no upstream


async def test_a_key_cannot_read_another_keys_image(http_server: RunningServer) -> None:
    alice, bob = await add_virtual_key(http_server.gateway, "alice"), await add_virtual_key(http_server.gateway, "bob")
    async with client_with_key(http_server.url, alice) as client:
        made = await client.call_tool("generate-fluxdev", {"prompt": "alice's fern"})
        uri = made.structured_content["images"][0]["uri"]
        assert (await client.read_resource(uri)).contents[0].mime_type.startswith("image/")
    async with client_with_key(http_server.url, bob) as client:
        with pytest.raises(MCPError) as hidden:
            await client.read_resource(uri)
    assert hidden.value.error.data["code"] == "not_found"


async def test_a_key_sees_only_its_jobs_and_an_admin_key_sees_every_keys(http_server: RunningServer) -> None:
    gateway = http_server.gateway
    alice, bob = await add_virtual_key(gateway, "alice"), await add_virtual_key(gateway, "bob")
    boss = await add_virtual_key(gateway, "boss", admin=True)
    async with client_with_key(http_server.url, alice) as client:
        assert (await client.call_tool("generate-fluxdev", {"prompt": "alice's fern"})).is_error is False
        [job] = (await client.call_tool("list_jobs", {})).structured_content["jobs"]
    async with client_with_key(http_server.url, bob) as client:
        hidden = _error(await client.call_tool("get_job", {"job_id": job["job_id"]}))
        assert hidden["code"] == "not_found"
        assert _error(await client.call_tool("cancel_job", {"job_id": job["job_id"]}))["code"] == "not_found"
        assert (await client.call_tool("list_jobs", {})).structured_content["jobs"] == []
    async with client_with_key(http_server.url, boss) as client:
        seen = await client.call_tool("get_job", {"job_id": job["job_id"]})
        listed = (await client.call_tool("list_jobs", {})).structured_content["jobs"]
    assert seen.is_error is False and seen.structured_content["images"]
    assert [entry["job_id"] for entry in listed] == [job["job_id"]]
