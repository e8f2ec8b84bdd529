"""``edit_image``'s ``markup`` argument over streamable HTTP with the MCP SDK client: it reaches
the provider like an image; with a mask it is refused before any call, naming ``markup``; the
argument is offered only when a model takes markup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pybase64
import pytest_asyncio
from imagegate.testing import (
    ScriptedPlugin,
    ScriptedProvider,
    image_bytes,
    opened_gateway,
    scripted_model,
    temp_settings,
)
from mcp import Client


@pytest_asyncio.fixture
async def marked(tmp_path: Path) -> AsyncIterator[tuple[str, ScriptedProvider]]:
    from imagegate_mcp.testing import serve_streamable_http

    plugin = ScriptedPlugin(ScriptedProvider("marker"),
                            scripted_model("marker-1", provider="marker", markup=True, recommended=True))
    async with (opened_gateway(temp_settings(tmp_path), ("marker", plugin)) as gateway,
                serve_streamable_http(gateway) as url):
        yield url, plugin.provider


def b64(data: bytes) -> str:
    return pybase64.b64encode(data).decode()


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error is True
    return json.loads(result.content[0].text)["error"]


async def test_markup_reaches_the_provider(marked: tuple[str, ScriptedProvider]) -> None:
    url, provider = marked
    markup = image_bytes(64, 64, seed=3)
    async with Client(url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("edit_image", {"prompt": "follow the arrows", "model": "marker-1",
                                                       "images": [b64(image_bytes())], "markup": b64(markup)})
    assert "not with mask" in tools["edit_image"].input_schema["properties"]["markup"]["description"]
    assert result.is_error is False
    [call] = provider.calls
    assert call.markup is not None and call.markup.data == markup and call.mask is None


async def test_markup_with_a_mask_is_refused_naming_markup(marked: tuple[str, ScriptedProvider]) -> None:
    url, provider = marked
    async with Client(url) as client:
        error = error_of(await client.call_tool("edit_image", {
            "prompt": "x", "model": "marker-1", "images": [b64(image_bytes())], "mask": b64(image_bytes()),
            "markup": b64(image_bytes())}))
    assert (error["code"], error["param"], error["retryable"]) == ("invalid_request", "markup", False)
    assert "mask" in error["message"]
    assert provider.calls == []


async def test_markup_with_a_nul_is_an_invalid_request(marked: tuple[str, ScriptedProvider]) -> None:
    url, provider = marked
    async with Client(url) as client:
        error = error_of(await client.call_tool("edit_image", {
            "prompt": "x", "model": "marker-1", "images": [b64(image_bytes())], "markup": "m\x00"}))
    assert (error["code"], error["param"]) == ("invalid_request", "markup")
    assert provider.calls == []


def test_markup_is_offered_only_when_a_model_takes_it() -> None:
    from imagegate_mcp.schemas import tool_input_schema

    def properties(*specs: Any) -> dict[str, Any]:
        return tool_input_schema(list(specs), "edit", models=None, default_model=None, deliver_default="link",
                                 image_help="", model_params=False)["properties"]

    plain, marking = scripted_model("plain-1", provider="p"), scripted_model("mark-1", provider="m", markup=True)
    assert "markup" not in properties(plain)
    assert "mark-1" in properties(plain, marking)["markup"]["description"]
