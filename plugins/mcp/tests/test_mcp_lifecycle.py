"""Model lifecycle through MCP (official client, streamable HTTP): translated and deprecated results
carry their lifecycle fields and still fit the advertised output schema, and ``list_available_models`` shows lifecycle and the default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from imagegate.testing.factories import opened_gateway, temp_settings
from imagegate.testing.lifecycle import LifecyclePlugin
from jsonschema import Draft202012Validator
from mcp import Client


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, LifecyclePlugin]]:
    from imagegate_mcp.testing import serve_streamable_http

    plugin = LifecyclePlugin()
    settings = temp_settings(tmp_path, providers={"lc": {"api_key": "lc-test-key"}},
                             gateway={"retired_models": "translate"})
    async with (opened_gateway(settings, ("lc", plugin)) as gateway,
                serve_streamable_http(gateway) as url):
        yield url, plugin


async def test_a_translated_result_names_the_replacement_and_fits_the_output_schema(
        served: tuple[str, LifecyclePlugin]) -> None:
    url, plugin = served
    async with Client(url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("generate_image", {"prompt": "a fox", "model": "lc-old",
                                                           "size": "1024x1792", "quality": "standard"})
        deprecated = await client.call_tool("generate_image", {"prompt": "a fox", "model": "lc-deprecated"})
    assert result.is_error is False and deprecated.is_error is False
    content: dict[str, Any] = result.structured_content or {}
    assert (content["model"], content["resolved_model"]) == ("lc-new", "lc-new")
    assert content["substitutions"] == [{"param": "model", "from": "lc-old", "to": "lc-new"},
                                        {"param": "size", "from": "1024x1792", "to": "1024x1536"},
                                        {"param": "quality", "from": "standard", "to": "medium"}]
    assert (deprecated.structured_content or {})["deprecation"] == {"shutdown_date": "2031-01-15",
                                                                    "replacement": "lc-new"}
    schema = tools["generate_image"].output_schema  # lists what every result has; these are extra
    for structured in (content, deprecated.structured_content):
        assert list(Draft202012Validator(schema).iter_errors(structured)) == []
    broken = {key: value for key, value in content.items() if key != "cost"}
    assert list(Draft202012Validator(schema).iter_errors(broken))  # the schema does check results
    assert plugin.provider is not None and [c.model.id for c in plugin.provider.calls] == ["lc-new", "lc-deprecated"]


async def test_list_available_models_shows_lifecycle_and_the_chosen_default(
        served: tuple[str, LifecyclePlugin]) -> None:
    url, _ = served
    async with Client(url) as client:
        listed = await client.call_tool("list_available_models", {})
    body: dict[str, Any] = listed.structured_content or {}
    assert body["default_model"] == "lc-new"  # GATEWAY__DEFAULT_MODEL unset and the lc key is set
    models = {item["id"]: item for item in body["models"]}
    fields = ("status", "shutdown_date", "replacement", "ready")
    assert tuple(models["lc-old"][f] for f in fields) == ("retired", "2026-05-12", "lc-older-successor", True)
    assert tuple(models["lc-deprecated"][f] for f in fields) == ("deprecated", "2031-01-15", "lc-new", True)
    assert tuple(models["lc-new"][f] for f in fields) == ("active", None, None, True)
