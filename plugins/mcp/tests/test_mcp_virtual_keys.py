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

from .support import FakeUpstream, RunningServer

pytestmark = pytest.mark.parametrize("api_keys", [["sk-operator-0123456789"]])


@asynccontextmanager
async def client_with_key(url: str, key: str) -> AsyncIterator[Client]:
    async with (create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
                Client(streamable_http_client(url, http_client=http)) as client):
        yield client


async def _key(gateway: Any, name: str, **limits: Any) -> str:
    from imagegate._keys import VirtualKey, key_digest, new_key

    secret = new_key()
    await gateway.keys.store.add(VirtualKey(name=name, digest=key_digest(secret), hint=secret[:8], **limits))
    return secret


def _error(result: Any) -> dict[str, Any]:
    assert result.is_error is True and result.structured_content is None
    return json.loads(result.content[0].text)["error"]


async def test_a_virtual_key_is_held_to_its_models_and_budget(http_server: RunningServer,
                                                              upstream: FakeUpstream) -> None:
    only_flux = await _key(http_server.gateway, "flux-only", models=["flux-dev"])
    budgeted = await _key(http_server.gateway, "budgeted", budget_usd=5)
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
    alice, bob = await _key(http_server.gateway, "alice"), await _key(http_server.gateway, "bob")
    async with client_with_key(http_server.url, alice) as client:
        made = await client.call_tool("generate-fluxdev", {"prompt": "alice's fern"})
        uri = made.structured_content["images"][0]["uri"]
        assert (await client.read_resource(uri)).contents[0].mime_type.startswith("image/")
    async with client_with_key(http_server.url, bob) as client:
        with pytest.raises(MCPError) as hidden:
            await client.read_resource(uri)
    assert hidden.value.error.data["code"] == "not_found"
