"""The MCP front-end end to end: the official SDK client, the real provider plugins, faked upstreams.

Over streamable HTTP (an in-process server over ``env_gateway``) and over stdio (a real
``imagegate serve mcp`` child process), with the environment a user sets: every tool is
discovered with the real catalogs' schemas, called against ``FakeOpenAI`` / ``FakeReplicate``
(what they received is checked), and recovers from argument, upstream and storage errors as
contract ``{"error": {...}}`` results. With ``STORAGE__BACKEND=s3`` images go to the moto bucket,
and a failing bucket loses nothing: the image is spooled and still readable by its id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pybase64
import pytest
from imagegate.testing import until
from imagegate_mcp.testing import serve_streamable_http

from .mcp_support import http_session, no_secrets, read_image, success
from .support import OPENAI_KEY, REPLICATE_TOKEN, s3_client

GENERIC_TOOLS = {"generate_image", "edit_image", "create_variation", "list_available_models", "describe_model"}
MODEL_TOOLS = {"generate-openai", "generate-fluxdev", "generate-fluxpro", "generate-svg"}
SVG_MIME = "image/svg+xml"


# serving and connecting ------------------------------------------------------------------------


@asynccontextmanager
async def stdio_session(env: dict[str, str]) -> AsyncIterator[Any]:
    """``imagegate serve mcp`` as a child process with ``env``; the SDK stops it on exit."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    script = Path(sys.executable).with_name("imagegate")
    command, args = (str(script), []) if script.is_file() else (
        sys.executable, ["-c", "from imagegate.cli import main; main()"])
    params = StdioServerParameters(command=command, args=[*args, "serve", "mcp"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


# checking results ------------------------------------------------------------------------------


def error_of(result: Any) -> dict[str, Any]:
    """The error object of an ``isError`` result whose text is exactly ``{"error": {...}}``."""
    assert result.is_error is True
    assert [block.type for block in result.content] == ["text"]
    text = result.content[0].text
    assert text.startswith('{"error":')
    body = json.loads(text)
    assert set(body) == {"error"} and result.structured_content is None
    assert set(body["error"]) >= {"code", "message", "retryable", "provider", "param", "retry_after"}
    no_secrets(result)
    return body["error"]


def blocks(result: Any, kind: str) -> list[Any]:
    return [block for block in result.content if block.type == kind]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(side: int, color: tuple[int, int, int] = (20, 120, 200)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (side, side), color).save(buffer, "PNG")
    return buffer.getvalue()


# streamable HTTP: discovery ----------------------------------------------------------------------


async def test_tools_carry_the_real_catalogs_schemas(mcp_url: str) -> None:
    async with http_session(mcp_url) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        listed = await session.call_tool("list_available_models", {})
    assert GENERIC_TOOLS | MODEL_TOOLS <= set(tools)

    openai = tools["generate-openai"].input_schema["properties"]
    assert openai.get("model", {}).get("default", "gpt-image-2.6-sunburst") == "gpt-image-2.6-sunburst"
    assert "Default model: gpt-image-2.6-sunburst." in tools["generate-openai"].description
    assert re.fullmatch(openai["size"]["pattern"], "3840x2160") and re.fullmatch(openai["size"]["pattern"], "auto")
    assert "multiple of 16" in openai["size"]["description"]
    assert openai["output_format"]["enum"] == ["png", "jpeg", "webp", "gif", "svg"]
    assert set(openai["model"]["enum"]) == {"gpt-image-2.6-sunburst", "gpt-image-2.6-flare", "gpt-image-2.5-sunburst",
                                            "gpt-image-2.5-flare"}
    assert openai["prompt"]["maxLength"] == 32000

    flux = tools["generate-fluxdev"].input_schema
    assert flux["properties"]["aspect_ratio"]["enum"] == [
        "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
    assert (flux["properties"]["n"]["minimum"], flux["properties"]["n"]["maximum"]) == (1, 4)
    assert flux["properties"]["num_inference_steps"]["maximum"] == 50
    assert "model" not in flux["properties"] and "size" not in flux["properties"]
    assert flux["additionalProperties"] is False and flux["required"] == ["prompt"]

    pro = tools["generate-fluxpro"].input_schema["properties"]
    assert "custom" in pro["aspect_ratio"]["enum"]
    assert (pro["width"]["minimum"], pro["width"]["maximum"]) == (256, 1440)
    assert (pro["safety_tolerance"]["minimum"], pro["safety_tolerance"]["maximum"]) == (1, 6)

    svg = tools["generate-svg"].input_schema["properties"]
    assert {"1024x1024", "1365x1024", "2048x1024"} <= set(svg["size"]["enum"])
    assert svg["style"]["enum"][:3] == ["any", "engraving", "line_art"]

    edit = tools["edit_image"].input_schema
    assert edit["required"] == ["prompt", "images"] and "mask" in edit["properties"]
    assert tools["create_variation"].input_schema["required"] == ["image"]
    assert tools["generate_image"].output_schema["required"] == ["model", "cost"]

    assert listed.is_error is False
    models = {model["id"]: model for model in listed.structured_content["models"]}
    for model_id in ("gpt-image-2.6-sunburst", "gpt-image-2-2026-04-21", "flux-dev", "flux-1.1-pro", "recraft-v3-svg"):
        assert models[model_id]["ready"] is True, model_id
    assert models["flux-dev"]["provider"] == "replicate" and models["gpt-image-2.6-flare"]["provider"] == "openai"


TOOLS_LIST_BUDGET = 16 * 1024


async def test_the_default_tool_set_is_small(mcp_url: str) -> None:
    """With every bundled provider configured, ``tools/list`` stays under 16 KB on the wire."""
    async with http_session(mcp_url) as session:
        listed = await session.list_tools()
    wire = listed.model_dump_json(by_alias=True, exclude_none=True)
    assert len(wire.encode()) < TOOLS_LIST_BUDGET, len(wire)
    assert GENERIC_TOOLS | MODEL_TOOLS <= {tool.name for tool in listed.tools}


# streamable HTTP: every per-model tool ---------------------------------------------------------


async def test_generate_openai_gpt_image_and_responses(mcp_url: str, fake_openai: Any) -> None:
    async with http_session(mcp_url) as session:
        gpt = await session.call_tool("generate-openai", {
            "prompt": "a lighthouse", "size": "1536x1024", "quality": "low", "output_format": "webp",
            "deliver": "full"})
        dalle = await session.call_tool("generate_image", {
            "prompt": "a cat", "model": "responses/gpt-4.1-mini", "params": {"quality": "high"}})
        data = success(gpt)
        stored, mime = await read_image(session, data["images"][0]["uri"])

    first, second = fake_openai.calls
    assert first.path == "/v1/images/generations" and first.authorized
    assert first.body == {"model": "gpt-image-2.6-sunburst", "prompt": "a lighthouse", "n": 1, "size": "1536x1024",
                          "quality": "low", "output_format": "webp"}
    assert (second.body["model"], second.body["tools"][0]["quality"]) == ("gpt-4.1-mini", "high")
    assert fake_openai.schema_errors == []

    assert (data["model"], data["provider"]) == ("gpt-image-2.6-sunburst", "openai")
    (image,) = data["images"]
    assert (image["mime_type"], image["width"], image["height"]) == ("image/webp", 1536, 1024)
    assert image["path"] is None  # local files mean nothing over HTTP; a signed link of this server does
    assert image["url"].startswith(mcp_url.removesuffix("/mcp") + f"/files/{image['id']}?")
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(image["url"]) as response:
        assert response.status == 200 and await response.read() == stored
    assert data["cost"]["actual_usd"] > 0
    (inline,) = blocks(gpt, "image")
    assert inline.mime_type == "image/webp"
    assert pybase64.b64decode(inline.data) == stored and sha256(stored) == image["sha256"]
    assert mime == "image/webp" and len(stored) == image["bytes"]

    revised = success(dalle)
    assert revised["model"] == "responses/gpt-4.1-mini" and revised["revised_prompt"] == "An image of: a cat"
    assert [link.uri for link in blocks(dalle, "resource_link")] == [revised["images"][0]["uri"]]


async def test_generate_fluxdev_and_fluxpro(mcp_url: str, fake_replicate: Any) -> None:
    async with http_session(mcp_url) as session:
        dev = await session.call_tool("generate-fluxdev", {
            "prompt": "a fox", "aspect_ratio": "16:9", "n": 2, "output_format": "png", "deliver": "preview"})
        pro = await session.call_tool("generate-fluxpro", {
            "prompt": "a owl", "aspect_ratio": "custom", "width": 512, "height": 768, "safety_tolerance": 5})
        dev_data, pro_data = success(dev), success(pro)
        reads = [await read_image(session, image["uri"]) for image in dev_data["images"] + pro_data["images"]]

    dev_create, pro_create = fake_replicate.creates
    assert dev_create.path == "/v1/models/black-forest-labs/flux-dev/predictions"
    assert dev_create.body == {"input": {"prompt": "a fox", "aspect_ratio": "16:9", "num_outputs": 2,
                                         "output_format": "png"}}
    assert dev_create.authorized
    assert pro_create.path == "/v1/models/black-forest-labs/flux-1.1-pro/predictions"
    assert pro_create.body == {"input": {"prompt": "a owl", "aspect_ratio": "custom", "width": 512,
                                         "height": 768, "safety_tolerance": 5}}
    assert fake_replicate.schema_errors == []

    assert (dev_data["model"], dev_data["provider"]) == ("flux-dev", "replicate")
    shapes = [(i["mime_type"], i["width"], i["height"]) for i in dev_data["images"]]
    assert shapes == [("image/png", 64, 48)] * 2
    assert [block.type for block in dev.content[1:]] == ["resource_link", "image", "resource_link", "image"]
    assert (pro_data["model"], pro_data["images"][0]["mime_type"]) == ("flux-1.1-pro", "image/webp")
    for (data, mime), image in zip(reads, dev_data["images"] + pro_data["images"], strict=True):
        assert (sha256(data), mime) == (image["sha256"], image["mime_type"])


async def test_generate_svg_is_stored_and_returned_as_clean_svg(mcp_url: str, fake_replicate: Any,
                                                               tmp_path: Path) -> None:
    async with http_session(mcp_url) as session:
        result = await session.call_tool("generate-svg", {
            "prompt": "a fox logo", "size": "1365x1024", "style": "line_art", "deliver": "full"})
        data = success(result)
        stored, mime = await read_image(session, data["images"][0]["uri"])

    assert fake_replicate.creates[0].path == "/v1/models/recraft-ai/recraft-v3-svg/predictions"
    assert fake_replicate.creates[0].body == {"input": {"prompt": "a fox logo", "size": "1365x1024",
                                                        "style": "line_art"}}
    assert fake_replicate.schema_errors == []
    (image,) = data["images"]
    assert (data["model"], image["mime_type"]) == ("recraft-v3-svg", SVG_MIME)
    (embedded,) = blocks(result, "resource")
    assert (embedded.resource.mime_type, embedded.resource.uri) == (SVG_MIME, image["uri"])
    assert mime == SVG_MIME and embedded.resource.text.encode() == stored
    assert sha256(stored) == image["sha256"]
    assert all("<svg" not in block.text for block in blocks(result, "text"))
    lowered = stored.lower()
    assert b"<svg" in lowered and b"<circle" in lowered
    for active in (b"<script", b"onload", b"onclick", b"document.cookie", b"evil.example"):
        assert active not in lowered
    (on_disk,) = (tmp_path / "images").rglob(f"{image['id']}.svg")
    assert on_disk.read_bytes() == stored and on_disk.with_suffix(".json").is_file()


async def test_generate_image_with_a_community_model_by_version(mcp_url: str, fake_replicate: Any) -> None:
    from imagegate_replicate.fake_schemas import COMMUNITY_MODEL, COMMUNITY_VERSION

    model = f"replicate/{COMMUNITY_MODEL}:{COMMUNITY_VERSION}"
    async with http_session(mcp_url) as session:
        refused = await session.call_tool("generate_image", {
            "prompt": "a cat", "model": model, "params": {"scheduler": "PNDM"}})
        result = await session.call_tool("generate_image", {
            "prompt": "a cat", "model": model, "params": {"guidance_scale": 9.5, "scheduler": "DDIM"}})
        data = success(result)
        stored, _ = await read_image(session, data["images"][0]["uri"])

    error = error_of(refused)
    assert (error["code"], error["param"], error["retryable"]) == ("invalid_request", "scheduler", False)
    (create,) = fake_replicate.creates  # the refused call never created a prediction
    assert create.path == "/v1/predictions"
    assert create.body == {"version": COMMUNITY_VERSION,
                           "input": {"prompt": "a cat", "guidance_scale": 9.5, "scheduler": "DDIM"}}
    assert fake_replicate.schema_errors == []
    assert data["provider"] == "replicate" and COMMUNITY_MODEL in data["model"]
    assert sha256(stored) == data["images"][0]["sha256"]


# streamable HTTP: edits ----------------------------------------------------------------------


async def test_edit_with_base64_and_stored_id(mcp_url: str, fake_openai: Any) -> None:
    source = png(64)
    async with http_session(mcp_url) as session:
        made = success(await session.call_tool("generate-openai", {"prompt": "a vase", "size": "1024x1024"}))
        stored_id = made["images"][0]["id"]
        stored, _ = await read_image(session, made["images"][0]["uri"])
        edited = await session.call_tool("edit_image", {
            "prompt": "put them in a basket", "model": "gpt-image-2.6-sunburst", "size": "1024x1024",
            "images": [pybase64.b64encode(source).decode(), stored_id], "params": {"input_fidelity": "high"}})
        edit_data = success(edited)

    _, edit_call = fake_openai.calls
    assert edit_call.path == "/v1/images/edits"
    files = [part.value for part in edit_call.form if part.filename]
    assert files == [source, stored]
    assert (edit_call.body["model"], edit_call.body["input_fidelity"]) == ("gpt-image-2.6-sunburst", "high")
    assert fake_openai.schema_errors == []

    assert (edit_data["model"], len(edit_data["images"])) == ("gpt-image-2.6-sunburst", 1)
    assert edit_data["images"][0]["id"] != stored_id


# streamable HTTP: errors --------------------------------------------------------------------------


async def test_argument_errors_are_caught_before_any_upstream_call(mcp_url: str, fake_openai: Any,
                                                                   fake_replicate: Any) -> None:
    async with http_session(mcp_url) as session:
        results = {
            "guidance": await session.call_tool("generate-fluxdev", {"prompt": "x", "guidance": 20}),
            "size": await session.call_tool("generate-openai", {"prompt": "x", "size": "999x999"}),
            "quality": await session.call_tool("generate_image", {"prompt": "x", "model": "gpt-image-2",
                                                                  "params": {"quality": "xhigh"}}),
            "colour": await session.call_tool("generate-svg", {"prompt": "x", "colour": "red"}),
            "prompt": await session.call_tool("generate-fluxpro", {"aspect_ratio": "1:1"}),
            "image": await session.call_tool("edit_image", {"prompt": "x", "model": "gpt-image-2.6-sunburst",
                                                            "images": ["/etc/passwd"]}),
        }
    for param, result in results.items():
        error = error_of(result)
        assert error["param"] == param, error
        assert error["code"] in ("invalid_request", "permission") and error["retryable"] is False
    assert "allowed: auto, low, medium, high" in error_of(results["quality"])["message"]
    assert fake_openai.call_count == 0
    assert fake_replicate.calls == []


async def test_upstream_errors_come_back_as_contract_errors(mcp_url: str, fake_openai: Any,
                                                            fake_replicate: Any) -> None:
    fake_openai.fail_with(400, {"error": {
        "message": f"Invalid value for 'size' (key {OPENAI_KEY})", "type": "invalid_request_error",
        "param": "size", "code": "invalid_value"}})
    fake_openai.fail_with(429, {"error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}})
    fake_replicate.fail_with(422, {
        "title": "Input validation failed",
        "detail": f"- input.guidance: 9.9 is not allowed for this model (token {REPLICATE_TOKEN})\n",
        "status": 422, "invalid_fields": [{"type": "invalid", "field": "input.guidance",
                                           "description": "9.9 is not allowed for this model"}]},
        path="/predictions")
    async with http_session(mcp_url) as session:
        rejected = error_of(await session.call_tool("generate-openai", {"prompt": "a fox",
                                                                        "size": "1024x1024"}))
        quota = error_of(await session.call_tool("generate-openai", {"prompt": "a fox"}))
        invalid = error_of(await session.call_tool("generate-fluxdev", {"prompt": "a fox", "guidance": 9.9}))
        recovered = success(await session.call_tool("generate-openai", {"prompt": "a fox"}))

    assert rejected == {"code": "invalid_request",
                        "message": "OpenAI rejected the request: Invalid value for 'size' (key [redacted])",
                        "retryable": False, "provider": "openai", "param": "size", "retry_after": None}
    assert quota["code"] == "quota_exceeded" and quota["retryable"] is False and quota["provider"] == "openai"
    assert "no quota left" in quota["message"]
    assert [invalid[k] for k in ("code", "param", "provider")] == ["invalid_request", "guidance", "replicate"]
    assert "9.9 is not allowed" in invalid["message"] and invalid["retryable"] is False
    assert "(token [redacted])" in invalid["message"]  # a compatible server echoing the token
    assert fake_openai.call_count == 3 and len(fake_replicate.creates) == 1  # no retries of final answers
    assert recovered["model"] == "gpt-image-2.6-sunburst"


async def test_cancelling_a_call_cancels_the_prediction(mcp_url: str, fake_replicate: Any) -> None:
    fake_replicate.keep_processing = True  # every prediction stays "processing" and is polled
    async with http_session(mcp_url) as session:
        call = asyncio.create_task(session.call_tool("generate-fluxpro", {"prompt": "slow"}))
        await until(lambda: fake_replicate.calls_to("/v1/predictions/", "GET"), timeout_s=20)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await until(lambda: fake_replicate.cancels, timeout_s=20)

        from mcp import MCPError

        timing_out = asyncio.create_task(
            session.call_tool("generate-fluxdev", {"prompt": "slower"}, read_timeout_seconds=3.0))
        await until(lambda: len(fake_replicate.creates) == 2, timeout_s=20)
        with pytest.raises(MCPError) as timed_out:
            await timing_out
        await until(lambda: len(fake_replicate.cancels) == 2, timeout_s=20)
    assert "timed out" in timed_out.value.error.message
    assert len(fake_replicate.creates) == 2
    assert all(p.record["status"] == "canceled" for p in fake_replicate.predictions.values())
    assert fake_replicate.schema_errors == []


# stdio --------------------------------------------------------------------------------------------


async def test_stdio_server_generates_with_both_providers(upstream_env: dict[str, str], fake_openai: Any,
                                                          fake_replicate: Any, tmp_path: Path) -> None:
    fake_openai.fail_with(503, {"error": {"message": "The server is overloaded", "type": "server_error",
                                          "param": None, "code": None}})
    async with asyncio.timeout(90), stdio_session(upstream_env) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        kite = {"prompt": "a kite", "size": "1024x1536", "quality": "low"}
        refused = error_of(await session.call_tool("generate-openai", {**kite, "size": "999x999"}))
        overloaded = error_of(await session.call_tool("generate-openai", kite))
        gpt = await session.call_tool("generate-openai", kite)
        svg = await session.call_tool("generate-svg", {"prompt": "a kite logo", "deliver": "preview"})
        gpt_data, svg_data = success(gpt), success(svg)
        read_svg, mime = await read_image(session, svg_data["images"][0]["uri"])

    assert GENERIC_TOOLS | MODEL_TOOLS <= tools
    assert (refused["code"], refused["param"]) == ("invalid_request", "size")
    assert [overloaded[k] for k in ("code", "retryable", "provider")] == ["upstream_error", True, "openai"]
    assert [call.body["size"] for call in fake_openai.calls] == ["1024x1536"] * 2  # the refusal never left
    assert fake_openai.schema_errors == []
    assert fake_replicate.creates[0].body == {"input": {"prompt": "a kite logo"}}
    assert fake_replicate.schema_errors == []
    image = gpt_data["images"][0]
    assert (image["width"], image["height"], gpt_data["provider"]) == (1024, 1536, "openai")
    path = Path(image["path"])  # over stdio the client shares the machine: a real local path
    assert path.is_relative_to(tmp_path / "images") and sha256(path.read_bytes()) == image["sha256"]
    svg_image = svg_data["images"][0]
    assert Path(svg_image["path"]).suffix == ".svg" and mime == SVG_MIME
    assert b"<script" not in read_svg and sha256(read_svg) == svg_image["sha256"]
    (embedded,) = blocks(svg, "resource")
    assert embedded.resource.mime_type == SVG_MIME


# S3 -----------------------------------------------------------------------------------------------


async def test_s3_stores_to_and_serves_from_the_bucket(env_gateway: Any, s3_env: dict[str, str],
                                                       moto_server: Any, bucket: str, fake_openai: Any,
                                                       ) -> None:
    import aiohttp

    gateway = await env_gateway(s3_env)
    async with serve_streamable_http(gateway) as url, http_session(url) as session:
        result = await session.call_tool("generate-openai", {"prompt": "a bucket", "size": "1024x1024"})
        data = success(result)
        image = data["images"][0]
        served, mime = await read_image(session, image["uri"])

    keys = [item["Key"] for item in s3_client(moto_server.url).list_objects_v2(Bucket=bucket)["Contents"]]
    (image_key,) = [key for key in keys if key.endswith(f"{image['id']}.png")]
    assert any(key.endswith(f"{image['id']}.json") for key in keys)
    in_bucket = s3_client(moto_server.url).get_object(Bucket=bucket, Key=image_key)["Body"].read()
    assert sha256(in_bucket) == image["sha256"] and served == in_bucket and mime == "image/png"
    assert image["url"].startswith(f"{moto_server.url}/") and "X-Amz-Signature=" in image["url"]
    async with aiohttp.ClientSession() as http, http.get(image["url"]) as response:
        assert response.status == 200
        assert await response.read() == in_bucket


@pytest.mark.parametrize("failure", ["errors", "down", "hangs"])
async def test_a_failing_bucket_loses_no_image(env_gateway: Any, s3_env: dict[str, str], moto_server: Any,
                                               bucket: str, fake_replicate: Any, failure: str) -> None:
    from imagegate_storage_s3.testing import S3Front

    front = await S3Front(moto_server.url).start()
    try:
        env = {**s3_env, "STORAGE__S3__ENDPOINT_URL": front.url, "STORAGE__S3__READ_TIMEOUT_S": "1"}
        gateway = await env_gateway(env)
        async with serve_streamable_http(gateway) as url, http_session(url) as session:
            if failure == "errors":
                front.fail_with(500, "<Error><Code>InternalError</Code></Error>", times=1000)
            elif failure == "down":
                await front.stop()
            else:
                front.hang()
            error = error_of(await session.call_tool("generate-fluxdev", {"prompt": "a kite"}))
            spooled = Path(error["spool_path"])
            image_id = spooled.stem
            paid_for = len(fake_replicate.creates)
            while_failing, mime = await read_image(session, f"imagegate://images/{image_id}")
            if failure == "down":
                await front.start(front.port)
            elif failure == "hangs":
                front.hang(False)
            read_again, _ = await read_image(session, f"imagegate://images/{image_id}")
            again = await session.call_tool("generate-fluxdev", {"prompt": "a kite again"})
    finally:
        await front.stop()

    assert (error["code"], error["retryable"], error["provider"]) == ("storage_error", True, "replicate")
    assert error["message"].startswith("storing the image failed") and str(spooled) in error["message"]
    assert paid_for == 1  # the paid-for image was not generated twice
    assert spooled.is_file() and spooled.suffix == ".webp"
    assert spooled.is_relative_to(s3_env["STORAGE__SPOOL_DIR"])
    assert while_failing == spooled.read_bytes() == read_again and mime == "image/webp"
    if failure == "errors":  # still failing: the next call is spooled too, under another id
        assert Path(error_of(again)["spool_path"]).stem != image_id
    else:  # the bucket is back: the next image lands in it
        image = success(again)["images"][0]
        keys = [o["Key"] for o in s3_client(moto_server.url).list_objects_v2(Bucket=bucket)["Contents"]]
        assert any(key.endswith(f"{image['id']}.webp") for key in keys)
        assert not any(image_id in key for key in keys)
