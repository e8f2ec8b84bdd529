"""Gemini end to end: the CLI, the HTTP front-end (the unmodified ``openai`` SDK asking for a Gemini
model) and the MCP client generate and edit through imagegate-gemini, configured only by the
environment a user sets (``PROVIDERS__GEMINI__BASE_URL`` naming a loopback ``FakeGemini``)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pybase64
import pytest
from PIL import Image

from .support import run_cli
from .http_support import Served, ServeEnv, assert_no_secrets
from .http_support import serve_env  # noqa: F401  (a fixture: pytest finds it in this module)
from .mcp_support import http_session, success

GEMINI_KEY = "AIzaSyE2E_gemini_SECRET_0123456789abcdef"
MODEL = "gemini-nano-banana-2.1"
NOTE = "Here is your picture."


@pytest.fixture
async def fake_gemini() -> AsyncIterator[Any]:
    from imagegate_gemini.testing import FakeGemini

    async with FakeGemini(api_key=GEMINI_KEY, text=NOTE) as server:
        yield server


@pytest.fixture
def gemini_env(upstream_env: dict[str, str], fake_gemini: Any) -> dict[str, str]:
    return {**upstream_env, "PROVIDERS__GEMINI__BASE_URL": fake_gemini.base_url,
            "PROVIDERS__GEMINI__API_KEY": GEMINI_KEY, "PROVIDERS__GEMINI__MAX_RETRIES": "0"}


def _png(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def _inline_images(call: Any) -> list[bytes]:
    return [base64.b64decode(p["inlineData"]["data"]) for p in call.body["contents"][0]["parts"] if "inlineData" in p]


# HTTP: the openai SDK ------------------------------------------------------------------------------


@pytest.fixture
async def served(serve_env: ServeEnv, gemini_env: dict[str, str]) -> Served:  # noqa: F811
    return await serve_env(gemini_env)


async def test_http_generate_b64_json_with_gemini_parameters(served: Served, fake_gemini: Any) -> None:
    answer = await served.client().images.generate(
        model=MODEL, prompt="a harbour at night", n=2, response_format="b64_json",
        extra_body={"aspect_ratio": "16:9", "image_size": "2K"})
    fake_gemini.assert_valid()
    assert fake_gemini.call_count == 2  # one image per call: the gateway fans out
    assert all(c.body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
               for c in fake_gemini.calls)
    sizes = [_png(base64.b64decode(item.b64_json)) for item in answer.data]
    assert len(sizes) == 2 and all(width > height for width, height in sizes)
    assert answer.data[0].revised_prompt == NOTE
    assert answer.model_extra["imagegate"]["cost"]["actual_usd"] > 0


async def test_http_edit_with_two_images_answers_urls(served: Served, fake_gemini: Any) -> None:
    from imagegate.testing import image_bytes

    first, second = image_bytes(32, 32, seed=3), image_bytes(24, 24, "jpeg", seed=4)
    answer = await served.client().images.edit(
        model=MODEL, prompt="combine them", response_format="url",
        image=[("a.png", first, "image/png"), ("b.jpg", second, "image/jpeg")])
    (call,) = fake_gemini.calls
    assert _inline_images(call) == [first, second]
    async with aiohttp.ClientSession() as session, session.get(answer.data[0].url) as response:
        assert response.status == 200
        _png(await response.read())


async def test_http_refusal_and_bad_parameter(served: Served, fake_gemini: Any) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        await served.client().images.generate(model=MODEL, prompt="x", extra_body={"image_size": "3K"})
    assert (bad.value.body["code"], bad.value.body["param"]) == ("invalid_request", "image_size")
    assert fake_gemini.call_count == 0
    fake_gemini.block_prompt("SAFETY")
    with pytest.raises(openai.BadRequestError) as blocked:
        await served.client().images.generate(model=MODEL, prompt="x")
    assert blocked.value.body["code"] == "content_filtered" and "stage: prompt" in blocked.value.body["message"]
    assert_no_secrets([GEMINI_KEY], str(blocked.value.body), str(bad.value.body))


# MCP -------------------------------------------------------------------------------------------------


@pytest.fixture
async def mcp_url(env_gateway: Any, gemini_env: dict[str, str]) -> AsyncIterator[str]:
    from imagegate_mcp.testing import serve_streamable_http

    gateway = await env_gateway(gemini_env)
    async with serve_streamable_http(gateway) as url:
        yield url


async def test_mcp_lists_generates_and_edits(mcp_url: str, fake_gemini: Any) -> None:
    from imagegate.testing import image_bytes

    source = image_bytes(40, 40, seed=9)
    async with http_session(mcp_url) as session:
        listed = await session.call_tool("list_available_models", {})
        made = success(await session.call_tool("generate_image", {
            "prompt": "a tall tower", "model": MODEL, "params": {"aspect_ratio": "9:16"}}))
        edited = success(await session.call_tool("edit_image", {
            "prompt": "make it blue", "model": MODEL,
            "images": [pybase64.b64encode(source).decode(), made["images"][0]["id"]]}))
    models = {model["id"]: model for model in listed.structured_content["models"]}
    assert models[MODEL]["provider"] == "gemini" and "9:16" in models[MODEL]["aspect_ratios"]
    assert models["gemini-2.5-flash-image"]["status"] == "retired"
    assert made["model"] == MODEL and made["revised_prompt"] == NOTE
    width, height = made["images"][0]["width"], made["images"][0]["height"]
    assert height > width
    generate_call, edit_call = fake_gemini.calls
    assert generate_call.body["generationConfig"]["imageConfig"]["aspectRatio"] == "9:16"
    assert _inline_images(edit_call)[0] == source and len(_inline_images(edit_call)) == 2
    assert edited["images"][0]["id"] != made["images"][0]["id"]
    fake_gemini.assert_valid()


# CLI -------------------------------------------------------------------------------------------------


async def test_cli_generate_dry_run_and_edit(gemini_env: dict[str, str], fake_gemini: Any, tmp_path: Path) -> None:
    env = {**gemini_env, "IMAGEGATE_DISABLE_PLUGINS": "observability"}
    quote = await run_cli(env, "generate", "a lighthouse", "-m", MODEL, "--param", "image_size=4K", "--dry-run",
                          "--json")
    assert quote.returncode == 0, quote.stderr
    assert quote.json()["cost"]["estimated_usd"] > 0 and fake_gemini.call_count == 0

    made = await run_cli(env, "generate", "a lighthouse", "-m", MODEL, "--param", "aspect_ratio=21:9", "--json")
    assert made.returncode == 0, made.stderr
    result = made.json()
    assert result["revised_prompt"] == NOTE
    assert fake_gemini.calls[0].body["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9"}

    source = tmp_path / "in.png"
    source.write_bytes(Path(result["images"][0]["path"]).read_bytes())
    edited = await run_cli(env, "edit", str(source), "--prompt", "add birds", "-m", MODEL, "--json")
    assert edited.returncode == 0, edited.stderr
    assert _inline_images(fake_gemini.calls[1]) == [source.read_bytes()]

    refused = await run_cli(env, "generate", "x", "-m", MODEL, "--param", "aspect_ratio=2:1", "--json")
    assert refused.returncode != 0
    error = json.loads(refused.stdout)["error"]
    assert (error["code"], error["param"]) == ("invalid_request", "aspect_ratio")
    assert fake_gemini.call_count == 2
    assert_no_secrets([GEMINI_KEY], made.stdout, made.stderr, refused.stdout, refused.stderr)
