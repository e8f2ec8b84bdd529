"""Model lifecycle over HTTP with the official SDK: Deprecation/Sunset headers, 410 for a retired
model, the translated answer, and ``/v1/models`` lifecycle fields. Models: imagegate.testing.lifecycle."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import openai
import pytest

from imagegate.testing.lifecycle import LifecyclePlugin

Serve = Callable[..., Awaitable[Any]]


@pytest.fixture
def lifecycle(monkeypatch: pytest.MonkeyPatch) -> LifecyclePlugin:
    monkeypatch.setenv("PROVIDERS__LC__API_KEY", "lc-test-key")
    return LifecyclePlugin()


async def test_a_deprecated_model_answers_with_deprecation_and_sunset_headers(
        serve: Serve, lifecycle: LifecyclePlugin) -> None:
    served = await serve(plugins=[(lifecycle, "lc")])
    before = int(time.time())
    async with served.client() as client:
        raw = await client.images.with_raw_response.generate(model="lc-deprecated", prompt="a fox",
                                                             response_format="url")
    deprecation = raw.headers["Deprecation"]
    assert deprecation.startswith("@") and before <= int(deprecation[1:]) <= int(time.time())
    assert raw.headers["Sunset"] == "Wed, 15 Jan 2031 00:00:00 GMT"
    body = json.loads(raw.content)
    assert body["imagegate"]["deprecation"] == {"shutdown_date": "2031-01-15", "replacement": "lc-new"}
    assert raw.parse().data[0].url


async def test_an_active_model_answers_without_lifecycle_headers(serve: Serve, lifecycle: LifecyclePlugin) -> None:
    served = await serve(plugins=[(lifecycle, "lc")])
    async with served.client() as client:
        raw = await client.images.with_raw_response.generate(model="lc-new", prompt="a fox")
    assert "Deprecation" not in raw.headers and "Sunset" not in raw.headers
    assert not {"deprecation", "resolved_model", "substitutions"} & set(json.loads(raw.content)["imagegate"])


async def test_a_retired_model_is_410_naming_the_replacement_and_calls_nothing(
        serve: Serve, lifecycle: LifecyclePlugin) -> None:
    served = await serve(plugins=[(lifecycle, "lc")])
    async with served.client() as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.images.generate(model="lc-old", prompt="a fox", size="1792x1024")
    assert caught.value.status_code == 410
    error = caught.value.response.json()["error"]
    assert (error["code"], error["type"], error["replacement"], error["param"], error["retryable"]) == (
        "model_retired", "invalid_request_error", "lc-new", "model", False)
    assert "use lc-new instead" in error["message"]
    assert lifecycle.provider is not None and lifecycle.provider.calls == []


async def test_translate_mode_answers_from_the_replacement_and_says_what_changed(
        serve: Serve, lifecycle: LifecyclePlugin) -> None:
    served = await serve(gateway={"retired_models": "translate"}, plugins=[(lifecycle, "lc")])
    async with served.client() as client:
        raw = await client.images.with_raw_response.generate(
            model="lc-old", prompt="a fox", size="1792x1024", quality="hd", style="vivid")
    result = json.loads(raw.content)["imagegate"]
    assert (result["model"], result["resolved_model"]) == ("lc-new", "lc-new")
    assert result["substitutions"] == [
        {"param": "model", "from": "lc-old", "to": "lc-new"},
        {"param": "size", "from": "1792x1024", "to": "1536x1024"},
        {"param": "quality", "from": "hd", "to": "high"},
        {"param": "style", "from": "vivid", "to": None}]
    assert lifecycle.provider is not None
    assert [(c.model.id, c.size, c.params) for c in lifecycle.provider.calls] == [
        ("lc-new", "1536x1024", {"quality": "high"})]


async def test_v1_models_shows_status_shutdown_date_and_replacement(serve: Serve, lifecycle: LifecyclePlugin) -> None:
    served = await serve(plugins=[(lifecycle, "lc")])
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served.base_url}/v1/models") as response:
            listed = {item["id"]: item for item in (await response.json())["data"]}
        async with session.get(f"{served.base_url}/v1/models/lc-deprecated") as response:
            one = await response.json()
    fields = ("status", "shutdown_date", "replacement")
    assert tuple(listed["lc-old"][f] for f in fields) == ("retired", "2026-05-12", "lc-older-successor")
    assert tuple(listed["lc-new"][f] for f in fields) == ("active", None, None)
    assert tuple(one[f] for f in fields) == ("deprecated", "2031-01-15", "lc-new")
