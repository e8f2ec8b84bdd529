"""Price provenance over MCP (SDK client): a result priced from unofficial figures says
``"cost": {..., "unofficial": true}``; ``list_available_models`` names each model's ``price_source``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from imagegate.testing import ScriptedPlugin, opened_gateway, temp_settings
from mcp import Client


@pytest_asyncio.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    from imagegate_mcp.testing import serve_streamable_http

    async with (opened_gateway(temp_settings(tmp_path), ("priced", ScriptedPlugin.priced_by_source())) as gateway,
                serve_streamable_http(gateway) as served):
        yield served


async def test_an_unofficial_price_is_flagged_in_the_result(url: str) -> None:
    async with Client(url) as client:
        flagged = await client.call_tool("generate_image", {"prompt": "x", "model": "unofficial-1"})
        plain = await client.call_tool("generate_image", {"prompt": "x", "model": "official-1"})
    assert flagged.structured_content["cost"] == {"estimated_usd": 0.05, "actual_usd": None, "unofficial": True}
    assert "unofficial" not in plain.structured_content["cost"]


async def test_list_available_models_names_the_price_source(url: str) -> None:
    async with Client(url) as client:
        listed = (await client.call_tool("list_available_models", {})).structured_content["models"]
    sources = {model["id"]: model["price_source"] for model in listed}
    assert (sources["unofficial-1"], sources["official-1"]) == ("unofficial", "official")
