"""Today's OpenAI GIF and SVG output end to end: the CLI (a subprocess), the HTTP front-end (the
official ``openai`` SDK client) and MCP (the official SDK client) against ``FakeOpenAI``, which
answers real animated GIF and SVG bytes and checks every request against the SDK's request types.
Each path must store and serve ``image/gif`` (with every frame) and ``image/svg+xml`` (clean SVG)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from defusedxml import ElementTree
from PIL import Image

from .support import run_cli
from .http_support import Served, ServeEnv
from .http_support import serve_env  # noqa: F401  (a fixture: pytest finds it in this module)
from .mcp_support import http_session, read_image, success

MODEL = "gpt-image-2.6-sunburst"
SVG_TAG = "{http://www.w3.org/2000/svg}svg"


def gif_frames(data: bytes) -> tuple[str, int, int]:
    """Format, frame count and frame duration of GIF bytes."""
    gif = Image.open(io.BytesIO(data))
    return gif.format, gif.n_frames, gif.info["duration"]


def svg_root(data: bytes) -> Any:
    root = ElementTree.fromstring(data)
    assert root.tag == SVG_TAG
    assert b"<script" not in data.lower()
    return root


@pytest.fixture
async def served(serve_env: ServeEnv, upstream_env: dict[str, str]) -> Served:  # noqa: F811
    return await serve_env(upstream_env)


async def _download(url: str) -> tuple[str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return response.content_type, await response.read()


# CLI ---------------------------------------------------------------------------------------------

async def test_cli_stores_gif_and_svg(upstream_env: dict[str, str], fake_openai: Any) -> None:
    env = {**upstream_env, "IMAGEGATE_DISABLE_PLUGINS": "observability"}
    gif = await run_cli(env, "generate", "a spinning coin", "-m", MODEL, "--param", "output_format=gif",
                        "--param", "frame_count=6", "--param", "frame_duration_ms=90", "--json")
    svg = await run_cli(env, "generate", "a fox logo", "-m", MODEL, "--param", "output_format=svg",
                        "--param", "svg_model=gpt-5.2", "--json")
    assert gif.returncode == 0 and svg.returncode == 0, gif.stderr + svg.stderr
    fake_openai.assert_valid()
    assert fake_openai.calls[0].body["frame_count"] == 6 and fake_openai.calls[1].body["svg"] == {"model": "gpt-5.2"}
    (gif_image,) = gif.json()["images"]
    assert gif_image["mime_type"] == "image/gif" and gif_image["path"].endswith(".gif")
    assert gif_frames(Path(gif_image["path"]).read_bytes()) == ("GIF", 6, 90)
    (svg_image,) = svg.json()["images"]
    assert svg_image["mime_type"] == "image/svg+xml" and svg_image["path"].endswith(".svg")
    assert svg_root(Path(svg_image["path"]).read_bytes()).get("width") == "1024"


# HTTP (the official openai SDK against the gateway) ----------------------------------------------

async def test_http_sdk_generates_gif(served: Served, fake_openai: Any) -> None:
    answer = await served.client().images.generate(model=MODEL, prompt="a spinning coin", size="1024x1024",
                                                   output_format="gif", frame_count=5, frame_duration_ms=120)
    fake_openai.assert_valid()
    assert fake_openai.calls[0].body["output_format"] == "gif"
    data = base64.b64decode(answer.data[0].b64_json)
    assert answer.output_format == "gif" and gif_frames(data) == ("GIF", 5, 120)
    (image,) = answer.model_extra["imagegate"]["images"]
    assert image["mime_type"] == "image/gif"
    assert bytes(await served.gateway.read(image["id"])) == data
    assert await _download(image["url"]) == ("image/gif", data)


async def test_http_sdk_generates_svg(served: Served, fake_openai: Any) -> None:
    answer = await served.client().images.generate(model=MODEL, prompt="a fox logo", output_format="svg")
    fake_openai.assert_valid()
    data = base64.b64decode(answer.data[0].b64_json)
    assert answer.output_format == "svg" and svg_root(data).get("height") == "1024"
    (image,) = answer.model_extra["imagegate"]["images"]
    assert image["mime_type"] == "image/svg+xml"
    assert await _download(image["url"]) == ("image/svg+xml", data)


# MCP (the official SDK client) -------------------------------------------------------------------

async def test_mcp_generates_gif_and_svg(mcp_url: str, fake_openai: Any) -> None:
    async with http_session(mcp_url) as session:
        gif = success(await session.call_tool("generate_image", {
            "prompt": "a spinning coin", "model": MODEL,
            "params": {"output_format": "gif", "frame_count": 3, "frame_duration_ms": 200}}))
        svg = success(await session.call_tool("generate_image", {
            "prompt": "a fox logo", "model": MODEL,
            "params": {"output_format": "svg", "svg_model": "gpt-5.2", "svg_reasoning_effort": "low"}}))
        gif_data, gif_mime = await read_image(session, gif["images"][0]["uri"])
        svg_data, svg_mime = await read_image(session, svg["images"][0]["uri"])
    fake_openai.assert_valid()
    assert fake_openai.calls[1].body["svg"] == {"model": "gpt-5.2", "reasoning": {"effort": "low"}}
    assert (gif["images"][0]["mime_type"], gif_mime) == ("image/gif", "image/gif")
    assert gif_frames(gif_data) == ("GIF", 3, 200)
    assert (svg["images"][0]["mime_type"], svg_mime) == ("image/svg+xml", "image/svg+xml")
    assert svg_root(svg_data).get("width") == "1024"
