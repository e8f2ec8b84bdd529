"""Prompts and ``describe_model`` through the official SDK client, over both transports.

Streamable HTTP serves the fake providers of ``conftest.py`` (and, for a Replicate model by name,
the real Replicate plugin against ``FakeReplicate``); stdio spawns ``imagegate serve mcp`` with the
placeholder model only, or with Replicate's key and base URL pointing at ``FakeReplicate``. Every
call a prompt suggests is made, so a suggestion the gateway would refuse fails here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from imagegate import hookimpl
from mcp import Client, MCPError

from .support import FakeProvider, FakeUpstream, RunningServer, fake_specs
from .support import error_of, serve_stdio

PROMPTS = {"logo": "name", "icon": "subject", "product_shot": "product", "portrait": "subject",
           "avatar_grid": "theme"}
"""Each prompt and its required argument."""
INVALID_PARAMS = -32602
COMMUNITY = "acme/tiny-diffusion"  # a model FakeReplicate serves and no catalog lists


def suggested_call(result: Any) -> dict[str, Any]:
    """The ``generate_image`` arguments a prompt's message carries (the JSON object in its text)."""
    (message,) = result.messages
    assert message.role == "user"
    text = message.content.text
    assert "generate_image" in text
    return json.loads(text[text.index("\n{") + 1: text.rindex("}") + 1])  # type: ignore[no-any-return]


async def prompts_are_listed_and_usable(client: Client, models: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every prompt is listed with its required argument; each suggests ``models[name]``, and the
    suggested call succeeds. Returns the calls and their results' MIME types."""
    assert client.server_capabilities.prompts is not None
    listed = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
    assert set(listed) == set(PROMPTS)
    calls: dict[str, dict[str, Any]] = {}
    for name, required in PROMPTS.items():
        arguments = {arg.name: arg for arg in listed[name].arguments or []}
        assert arguments[required].required is True
        assert all(arg.required is not True for arg in arguments.values() if arg.name != required)
        got = await client.get_prompt(name, {required: "a red fox", **({"style": "watercolor"}
                                                                       if "style" in arguments else {})})
        call = suggested_call(got)
        assert call["model"] == models[name], name
        assert "a red fox" in call["prompt"] and "watercolor" in call["prompt"]
        made = await client.call_tool("generate_image", call)
        assert made.is_error is False, made.content[0].text
        calls[name] = {**call, "mime_type": made.structured_content["images"][0]["mime_type"]}
    assert "3x3 grid" in calls["avatar_grid"]["prompt"]
    return calls


async def prompt_errors(client: Client) -> None:
    """A missing or unknown argument and an unknown prompt are invalid params naming what is wrong."""
    with pytest.raises(MCPError) as missing:
        await client.get_prompt("logo", {"style": "minimal"})
    assert missing.value.code == INVALID_PARAMS
    assert (missing.value.error.data["code"], missing.value.error.data["param"]) == ("invalid_request", "name")
    with pytest.raises(MCPError) as blank:
        await client.get_prompt("icon", {"subject": "   "})
    assert blank.value.error.data["param"] == "subject"
    with pytest.raises(MCPError) as unknown_argument:
        await client.get_prompt("portrait", {"subject": "a fox", "font": "serif"})
    assert unknown_argument.value.error.data["param"] == "font"
    assert "subject, style, background" in unknown_argument.value.message
    with pytest.raises(MCPError) as unknown_prompt:
        await client.get_prompt("poster", {"subject": "a fox"})
    assert unknown_prompt.value.code == INVALID_PARAMS and unknown_prompt.value.error.data["code"] == "not_found"
    assert "logo" in unknown_prompt.value.message
    with pytest.raises(MCPError) as too_long:
        await client.get_prompt("logo", {"name": "x" * 501})
    assert too_long.value.error.data["param"] == "name" and "at most 500" in too_long.value.message


# prompts ------------------------------------------------------------------------------------------


async def test_prompts_over_http_choose_models_from_the_catalog(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        calls = await prompts_are_listed_and_usable(client, {
            **dict.fromkeys(PROMPTS, "acme-sketch"),  # the gateway's default model
            "icon": "recraft-v3-svg"})  # the model whose only output format is SVG
        await prompt_errors(client)
    assert calls["icon"]["mime_type"] == "image/svg+xml" and "params" not in calls["icon"]
    assert calls["logo"]["size"] == "512x512"  # the square size acme-sketch lists
    assert "size" not in calls["product_shot"]  # acme-sketch lists no landscape size


async def test_prompts_over_stdio_all_work_offline_with_the_placeholder(tmp_path: Path) -> None:
    async with serve_stdio(tmp_path) as client:
        calls = await prompts_are_listed_and_usable(client, dict.fromkeys(PROMPTS, "placeholder"))
        await prompt_errors(client)
    assert calls["icon"]["params"]["output_format"] == "svg" and calls["icon"]["mime_type"] == "image/svg+xml"
    assert calls["logo"]["params"] == {"background": "transparent"}
    assert (calls["product_shot"]["size"], calls["portrait"]["size"]) == ("1536x1024", "1024x1536")


class RasterOnlyPlugin:
    """Only the fake ``acme`` provider: no model outputs SVG."""

    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream

    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(FakeProvider("acme", self.upstream, cancellable=False))
        for spec in fake_specs():
            if spec.provider == "acme":
                register.add_model(spec)


@pytest.fixture
async def raster_only_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    from imagegate.testing.factories import opened_gateway, temp_settings
    from imagegate_mcp.testing import serve_streamable_http

    monkeypatch.setenv("IMAGEGATE_DISABLE_PLUGINS", "placeholder")
    async with (opened_gateway(temp_settings(tmp_path), ("raster-only", RasterOnlyPlugin(FakeUpstream()))) as gateway,
                serve_streamable_http(gateway) as url):
        yield url


async def test_a_prompt_whose_model_is_missing_is_not_listed(raster_only_url: str) -> None:
    async with Client(raster_only_url) as client:
        listed = {prompt.name for prompt in (await client.list_prompts()).prompts}
        assert listed == set(PROMPTS) - {"icon"}
        with pytest.raises(MCPError) as icon:
            await client.get_prompt("icon", {"subject": "a fox"})
    assert icon.value.code == INVALID_PARAMS and icon.value.error.data["code"] == "not_found"


# describe_model -----------------------------------------------------------------------------------


async def test_describe_a_catalog_model_over_http(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        described = await client.call_tool("describe_model", {"model": "openai/dall-e-3"})
        locked = await client.call_tool("describe_model", {"model": "locked-1"})
        unknown = await client.call_tool("describe_model", {"model": "gpt-imag-1"})
        missing = await client.call_tool("describe_model", {})
    assert tools["describe_model"].annotations.read_only_hint is True
    body = described.structured_content
    assert described.is_error is False and json.loads(described.content[0].text) == body
    assert (body["id"], body["provider"], body["status"], body["ready"]) == ("dall-e-3", "openai", "active", True)
    generate = body["arguments"]["generate"]
    assert generate["properties"]["quality"]["enum"] == ["standard", "hd"]
    assert generate["properties"]["size"]["enum"] == ["1024x1024", "1792x1024"]
    assert generate["required"] == ["prompt"] and "model" not in generate["properties"]
    assert set(body["arguments"]) == {"generate"} and "input_schema" not in body
    assert locked.structured_content["ready"] is False  # described, though not offered
    error = error_of(unknown)
    assert (error["code"], error["param"]) == ("not_found", "model") and "gpt-image-1" in error["message"]
    assert error_of(missing)["param"] == "model"


async def test_describe_the_placeholder_over_stdio(tmp_path: Path) -> None:
    async with serve_stdio(tmp_path) as client:
        described = await client.call_tool("describe_model", {"model": "placeholder"})
        unknown = await client.call_tool("describe_model", {"model": "placeholdr"})
    body = described.structured_content
    assert set(body["arguments"]) == {"generate", "edit", "variation"}
    assert body["arguments"]["edit"]["properties"]["images"]["maxItems"] == 16
    assert body["parameters"]["output_format"]["enum"] == ["png", "jpeg", "webp", "svg"]
    assert body["pricing"] == {"per_image": [{"usd": 0.0}]}
    assert body["requirements"][0]["when"] == {"background": ["transparent"]}
    error = error_of(unknown)
    assert error["code"] == "not_found" and "placeholder" in error["message"]


def check_community_model(body: dict[str, Any]) -> None:
    """What FakeReplicate's community model schema says, as describe_model shows it."""
    assert body["provider"] == "replicate" and body["ready"] is True
    assert body["input_schema"]["properties"]["guidance_scale"]["maximum"] == 20
    generate = body["arguments"]["generate"]
    assert generate["properties"]["scheduler"]["enum"] == ["DDIM", "K_EULER", "DPMSolverMultistep"]


@pytest.fixture
async def fake_replicate() -> AsyncIterator[Any]:
    from imagegate_replicate.testing import FakeReplicate

    async with FakeReplicate() as server:
        yield server


@pytest.fixture
async def replicate_url(tmp_path: Path, fake_replicate: Any) -> AsyncIterator[str]:
    """The real Replicate plugin, pointed at ``FakeReplicate``, served over streamable HTTP."""
    import imagegate_replicate
    from imagegate.testing.factories import opened_gateway, temp_settings
    from imagegate_mcp.testing import serve_streamable_http

    settings = temp_settings(tmp_path, providers={"replicate": {
        "api_token": "r8_test", "base_url": fake_replicate.base_url, "max_retries": 0}})
    async with (opened_gateway(settings, ("replicate", imagegate_replicate)) as gateway,
                serve_streamable_http(gateway) as url):
        yield url


async def test_describe_a_replicate_model_by_name_over_http(replicate_url: str) -> None:
    async with Client(replicate_url) as client:
        by_name = await client.call_tool("describe_model", {"model": COMMUNITY})
        qualified = await client.call_tool("describe_model", {"model": f"replicate/{COMMUNITY}"})
        unknown = await client.call_tool("describe_model", {"model": "acme/no-such-model"})
    assert by_name.is_error is False, by_name.content[0].text
    check_community_model(by_name.structured_content)
    assert qualified.structured_content == by_name.structured_content
    error = error_of(unknown)
    assert (error["code"], error["param"]) == ("not_found", "model") and "acme/no-such-model" in error["message"]


async def test_describe_a_replicate_model_by_name_over_stdio(tmp_path: Path, fake_replicate: Any) -> None:
    env = {"PROVIDERS__REPLICATE__API_TOKEN": "r8_test", "PROVIDERS__REPLICATE__BASE_URL": fake_replicate.base_url,
           "PROVIDERS__REPLICATE__MAX_RETRIES": "0"}
    async with serve_stdio(tmp_path, env) as client:
        by_name = await client.call_tool("describe_model", {"model": COMMUNITY})
        catalog = await client.call_tool("describe_model", {"model": "recraft-v3-svg"})
    assert by_name.is_error is False, by_name.content[0].text
    check_community_model(by_name.structured_content)
    assert catalog.structured_content["output_formats"] == ["svg"]
