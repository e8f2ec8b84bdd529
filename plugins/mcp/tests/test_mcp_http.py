"""The official MCP client drives the server over streamable HTTP, with fake upstream providers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import aiohttp
import pybase64
import pytest
from imagegate._errors import RateLimited
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from .support import SVG, FakeUpstream, RunningServer, error_of


async def test_tools_are_listed_with_catalog_schemas(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"list_available_models", "describe_model", "generate_image", "edit_image", "create_variation",
                          "generate-openai", "generate-fluxdev", "generate-svg", "generate-acme", "transform_image",
                          "get_job", "cancel_job", "list_jobs"}
    openai = tools["generate-openai"].input_schema
    assert openai["properties"]["model"]["enum"] == ["dall-e-3", "gpt-image-1"]
    assert openai["properties"]["model"]["default"] == "gpt-image-1"  # the hint marked default
    assert "Default model: gpt-image-1." in tools["generate-openai"].description
    assert tools["generate-openai"].title == "Generate with OpenAI"
    assert openai["properties"]["quality"]["enum"] == ["standard", "hd", "low", "medium", "high", "auto"]
    assert "1792x1024" in openai["properties"]["size"]["enum"]
    assert openai["additionalProperties"] is False
    flux = tools["generate-fluxdev"].input_schema
    assert "size" not in flux["properties"] and "model" not in flux["properties"]
    assert flux["properties"]["aspect_ratio"]["enum"] == ["1:1", "16:9"]
    assert flux["properties"]["guidance"]["maximum"] == 10
    assert flux["properties"]["n"]["maximum"] == 4
    assert flux["properties"]["deliver"]["enum"] == ["link", "preview", "full"]
    generic = tools["generate_image"].input_schema["properties"]
    assert set(generic) == {"prompt", "model", "size", "n", "params", "deliver", "grid", "cells"}  # options go in params
    # GATEWAY__DEFAULT_MODEL unset: the recommended model of the first provider with a key
    assert generic["model"]["default"] == "acme-sketch"
    assert "Default model: acme-sketch." in tools["generate_image"].description
    generate = tools["generate_image"].annotations
    # only what differs from the spec's defaults (not read-only, destructive, open world) is sent
    assert (generate.read_only_hint, generate.destructive_hint, generate.open_world_hint) == (None, False, None)
    listing = tools["list_available_models"].annotations
    assert (listing.read_only_hint, listing.idempotent_hint, listing.open_world_hint) == (True, True, False)
    assert tools["generate_image"].output_schema["required"] == ["model", "cost"]  # a result, or a pending job
    assert tools["get_job"].output_schema == tools["generate_image"].output_schema
    assert tools["get_job"].annotations.read_only_hint is True and tools["list_jobs"].output_schema is None


async def test_a_third_party_provider_declares_its_own_tool(http_server: RunningServer,
                                                            upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "generate-acme")
        default = await client.call_tool("generate-acme", {"prompt": "a boat"})
        oils = await client.call_tool("generate-acme", {"prompt": "a boat", "model": "acme-oils", "brush": "fine"})
        wrong = error_of(await client.call_tool("generate-acme", {"prompt": "a boat", "brush": "fine"}))
    assert (tool.title, tool.input_schema["properties"]["model"]["enum"]) == (
        "Paint with Acme", ["acme-oils", "acme-sketch"])
    assert tool.input_schema["properties"]["model"]["default"] == "acme-sketch"  # the recommended one
    assert tool.description.startswith("Acme paints in oils. Default model: acme-sketch.")
    assert default.structured_content["model"] == "acme-sketch"
    assert oils.structured_content["model"] == "acme-oils"
    assert (wrong["code"], wrong["param"]) == ("invalid_request", "brush")  # acme-sketch has no brush
    assert [call.model.id for call in upstream.seen] == ["acme-sketch", "acme-oils"]
    assert upstream.seen[1].params == {"brush": "fine"}


async def test_unconfigured_providers_are_not_offered(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        listed = await client.call_tool("list_available_models", {})
        locked = error_of(await client.call_tool("generate_image", {"prompt": "x", "model": "locked-1"}))
    assert "generate-locked" not in tools
    assert "locked-1" not in tools["generate_image"].description
    models = {model["id"]: model for model in listed.structured_content["models"]}
    assert models["locked-1"]["ready"] is False  # still listed, with why it cannot be used
    assert (locked["code"], locked["provider"]) == ("authentication", "locked")
    assert "PROVIDERS__LOCKED__API_KEY" in locked["message"]
    assert upstream.calls == 0


@pytest.mark.parametrize("mcp_options", [{"offer_unconfigured": True}])
async def test_unconfigured_providers_are_offered_when_asked(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert "generate-locked" in tools and "locked-1" in tools["generate_image"].description


async def test_generic_tools_check_params_against_the_chosen_model(http_server: RunningServer,
                                                                   upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        bad = error_of(await client.call_tool("generate_image", {
            "prompt": "x", "model": "gpt-image-1", "params": {"quality": "hd"}}))
        foreign = error_of(await client.call_tool("generate_image", {
            "prompt": "x", "model": "flux-dev", "params": {"quality": "low"}}))
        typed = error_of(await client.call_tool("generate_image", {"prompt": "x", "params": "quality=low"}))
        top = error_of(await client.call_tool("generate_image", {"prompt": "x", "model": "gpt-image-1",
                                                                 "quality": "ultra"}))
        good = await client.call_tool("generate_image", {
            "prompt": "x", "model": "dall-e-3", "params": {"quality": "hd"}})
        named = await client.call_tool("generate_image", {"prompt": "x", "model": "dall-e-3", "quality": "hd"})
    assert (bad["code"], bad["param"]) == ("invalid_request", "quality") and "low, medium" in bad["message"]
    assert (foreign["param"], "guidance" in foreign["message"]) == ("quality", True)
    assert typed["param"] == "params"
    assert (top["param"], "low, medium" in top["message"]) == ("quality", True)  # CONTRACT: top-level works too
    assert good.is_error is False and named.is_error is False
    assert [call.params for call in upstream.seen] == [{"quality": "hd"}, {"quality": "hd"}]
    assert upstream.calls == 2


async def test_generate_link_and_read_resource(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        result = await client.call_tool("generate-fluxdev", {"prompt": "a fox", "aspect_ratio": "16:9",
                                                             "deliver": "link"})
        assert result.is_error is False
        data = result.structured_content
        assert data["model"] == "flux-dev" and data["provider"] == "replicate"
        image = data["images"][0]
        assert image["path"] is None and image["url"].startswith(http_server.url.removesuffix("/mcp") + "/files/")
        assert image["uri"] == f"imagegate://images/{image['id']}"
        links = [block for block in result.content if block.type == "resource_link"]
        assert [link.uri for link in links] == [image["uri"]]
        assert json.loads(result.content[0].text) == data
        read = await client.read_resource(image["uri"])
    blob = pybase64.b64decode(read.contents[0].blob)
    assert hashlib.sha256(blob).hexdigest() == image["sha256"]
    assert read.contents[0].mime_type == "image/png"
    assert upstream.seen[0].params["aspect_ratio"] == "16:9"


async def test_svg_comes_back_as_an_svg_resource(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        result = await client.call_tool("generate-svg", {"prompt": "a logo", "deliver": "full"})
    assert result.is_error is False
    embedded = [block for block in result.content if block.type == "resource"]
    assert len(embedded) == 1
    assert embedded[0].resource.mime_type == "image/svg+xml"
    assert "<svg" in embedded[0].resource.text and "rect" in embedded[0].resource.text
    assert all(block.type != "text" or "<svg" not in block.text for block in result.content)
    assert SVG.startswith(b"<svg")


async def test_bad_argument_fails_before_any_upstream_call(http_server: RunningServer,
                                                           upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        out_of_range = error_of(await client.call_tool("generate-fluxdev", {"prompt": "x", "guidance": 20}))
        unknown = error_of(await client.call_tool("generate-fluxdev", {"prompt": "x", "colour": "red"}))
        wrong_model = error_of(await client.call_tool("generate-openai", {"prompt": "x", "model": "flux-dev"}))
        catalog = error_of(await client.call_tool("generate-openai", {"prompt": "x", "model": "dall-e-3",
                                                                      "quality": "low"}))
        missing = error_of(await client.call_tool("generate_image", {"size": "64x64"}))
    assert (out_of_range["code"], out_of_range["param"]) == ("invalid_request", "guidance")
    assert out_of_range["retryable"] is False
    assert (unknown["code"], unknown["param"]) == ("invalid_request", "colour")
    assert wrong_model["param"] == "model"
    assert (catalog["param"], catalog["code"]) == ("quality", "invalid_request")
    assert "standard, hd" in catalog["message"]
    assert missing["param"] == "prompt"
    assert upstream.calls == 0


async def test_bad_image_never_echoes_base64(http_server: RunningServer, upstream: FakeUpstream) -> None:
    payload = pybase64.b64encode(b"not an image at all " * 300).decode()
    async with Client(http_server.url) as client:
        error = error_of(await client.call_tool("edit_image", {"prompt": "x", "images": [payload],
                                                               "model": "placeholder"}))
        typed = error_of(await client.call_tool("edit_image", {"prompt": "x", "images": payload}))
    assert error["code"] == "invalid_request" and error["param"] == "image"
    assert payload[:40] not in json.dumps(error)
    assert typed["param"] == "images" and payload[:40] not in json.dumps(typed)
    assert upstream.calls == 0


async def test_path_outside_allowed_roots_is_refused_without_naming_folders(http_server: RunningServer,
                                                                           tmp_path: Any) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    async with Client(http_server.url) as client:
        tools = (await client.list_tools()).tools
        image = await client.call_tool("edit_image", {"prompt": "x", "images": [str(outside)]})
        mask = await client.call_tool("edit_image", {"prompt": "x", "images": [str(outside)], "mask": "/etc/passwd"})
    error = error_of(image)
    assert (error["code"], error["param"]) == ("permission", "image")
    assert error["message"] == "image: not under an allowed input folder"
    for text in (image.content[0].text, mask.content[0].text, *(tool.model_dump_json() for tool in tools)):
        assert str(tmp_path) not in text  # the allowed root is tmp_path/inputs: never shown remotely


async def test_nul_in_an_input_path_is_an_invalid_request(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        image = error_of(await client.call_tool("edit_image", {"prompt": "x", "images": ["/tmp/a\x00.png"]}))
        mask = error_of(await client.call_tool("edit_image", {"prompt": "x", "images": ["img"], "mask": "m\x00"}))
        varied = error_of(await client.call_tool("create_variation", {"image": "\x00"}))
    assert [(e["code"], e["param"]) for e in (image, mask, varied)] == [
        ("invalid_request", "image"), ("invalid_request", "mask"), ("invalid_request", "image")]
    assert "NUL" in image["message"] and upstream.calls == 0


async def test_oversized_names_and_values_are_not_echoed(http_server: RunningServer) -> None:
    """A 300 KB argument name, value or tool name gives a small error, not a 1.2 MB echo."""
    huge = "A" * 300_000
    async with Client(http_server.url) as client:
        results = [
            await client.call_tool("generate_image", {"prompt": "x", huge: 1}),
            await client.call_tool("generate_image", {"prompt": "x", "params": {huge: 1}}),
            await client.call_tool("generate_image", {"prompt": "x", "model": huge}),
        ]
    async with Client(http_server.url, mode="legacy") as client:  # modern clients send the name as a header
        results.append(await client.call_tool(huge, {}))
    for result in results:
        error = error_of(result)
        assert len(result.content[0].text) < 2500, error["message"][:200]
        assert huge[:101] not in result.content[0].text


async def test_upstream_failure_is_an_error_result(http_server: RunningServer, upstream: FakeUpstream) -> None:
    upstream.error = RateLimited("slow down", retry_after=7.0)
    async with Client(http_server.url) as client:
        error = error_of(await client.call_tool("generate-openai", {"prompt": "a fox"}))
    assert error == {"code": "rate_limited", "message": "slow down", "retryable": True, "provider": "openai",
                     "param": None, "retry_after": 7.0}
    assert upstream.calls == 1


async def test_progress_notifications_while_waiting(http_server: RunningServer, upstream: FakeUpstream) -> None:
    upstream.hang = True
    messages: list[str] = []
    heartbeat = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        if message and message.startswith("working:"):
            heartbeat.set()

    async with Client(http_server.url) as client:
        call = asyncio.create_task(client.call_tool("generate-fluxdev", {"prompt": "slow"},
                                                    progress_callback=on_progress))
        async with asyncio.timeout(20):
            await heartbeat.wait()
        upstream.release.set()
        result = await call
    assert result.is_error is False
    assert any(message.startswith("starting") for message in messages)


async def cancel_once_started(client: Client, upstream: FakeUpstream, tool: str) -> None:
    """Call ``tool`` on a hanging upstream and cancel the call once the provider has it."""
    upstream.hang = True
    call = asyncio.create_task(client.call_tool(tool, {"prompt": "slow"}))
    async with asyncio.timeout(20):
        await upstream.started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_cancel_stops_cancellable_upstream_work(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        await cancel_once_started(client, upstream, "generate-fluxdev")
        async with asyncio.timeout(20):
            await upstream.cancelled.wait()
    assert not upstream.finished.is_set()
    assert await http_server.gateway.list() == []


async def test_cancel_finishes_and_stores_paid_work(http_server: RunningServer, upstream: FakeUpstream) -> None:
    async with Client(http_server.url) as client:
        await cancel_once_started(client, upstream, "generate-openai")
    upstream.release.set()
    async with asyncio.timeout(20):
        while not await http_server.gateway.list():
            await asyncio.sleep(0.02)
    stored = await http_server.gateway.list()
    assert stored[0]["model"] == "gpt-image-1"
    assert not upstream.cancelled.is_set()


@pytest.mark.parametrize("api_keys", [["sekrit-key"]])
async def test_results_carry_signed_links_served_by_the_same_server(http_server: RunningServer) -> None:
    """Over streamable HTTP a remote client fetches the image at its url (no bearer key needed:
    the signature is the permission); a tampered, prolonged or foreign link is refused."""
    headers = {"Authorization": "Bearer sekrit-key"}
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(http_server.url, http_client=http)) as client:
            png = (await client.call_tool("generate-fluxdev", {"prompt": "a fox"})).structured_content["images"][0]
            svg = (await client.call_tool("generate-svg", {"prompt": "a logo"})).structured_content["images"][0]
    url = png["url"]
    assert url.startswith(http_server.url.removesuffix("/mcp") + f"/files/{png['id']}?exp=")
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    prolonged = url.replace("exp=", "exp=1", 1)
    other_id = url.replace(png["id"], svg["id"])
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200 and response.content_type == "image/png"
            assert hashlib.sha256(await response.read()).hexdigest() == png["sha256"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        async with session.get(svg["url"]) as response:
            assert response.status == 200 and response.content_type == "image/svg+xml"
            assert "sandbox" in response.headers["Content-Security-Policy"]
            assert hashlib.sha256(await response.read()).hexdigest() == svg["sha256"]
        for bad in (tampered, prolonged, other_id):
            async with session.get(bad) as response:
                assert response.status == 403, bad
                error = (await response.json())["error"]
                assert (error["code"], error["param"]) == ("permission", "sig")
        base = http_server.url.removesuffix("/mcp")
        async with session.get(f"{base}/files/..%2f..%2fetc%2fpasswd?exp=9999999999&sig=x") as response:
            assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
        async with session.post(url) as response:
            assert response.status == 405


@pytest.mark.parametrize("public_url", ["https://images.example.test"])
async def test_links_are_based_at_the_public_url(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        image = (await client.call_tool("generate-fluxdev", {"prompt": "a fox"})).structured_content["images"][0]
    assert image["url"].startswith(f"https://images.example.test/files/{image['id']}?exp=")
    here = image["url"].replace("https://images.example.test", http_server.url.removesuffix("/mcp"))
    async with aiohttp.ClientSession() as session, session.get(here) as response:  # what a proxy forwards
        assert response.status == 200
        assert hashlib.sha256(await response.read()).hexdigest() == image["sha256"]


@pytest.mark.parametrize("api_keys", [["sekrit-key"]])
async def test_bearer_key_is_required(http_server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(http_server.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}) as response:
            assert response.status == 401
            body = await response.json()
            assert body["error"]["code"] == "authentication"
        headers = {"Authorization": "Bearer wrong"}
        async with session.post(http_server.url, json={}, headers=headers) as response:
            assert response.status == 401
    async with create_mcp_http_client(headers={"Authorization": "Bearer sekrit-key"}) as http:
        async with Client(streamable_http_client(http_server.url, http_client=http)) as client:
            tools = await client.list_tools()
    assert "generate_image" in {tool.name for tool in tools.tools}


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_trace_context_comes_from_meta_or_the_http_headers(http_server: RunningServer,
                                                                 upstream: FakeUpstream) -> None:
    """W3C trace context reaches the gateway (and so the spans and upstream calls) from the call's
    ``_meta`` and from the HTTP request; ``_meta``'s context wins, whole, when both are given."""
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with create_mcp_http_client(headers={"traceparent": other, "tracestate": "vendor=1"}) as http:
        async with Client(streamable_http_client(http_server.url, http_client=http)) as client:
            from_headers = await client.call_tool("generate-fluxdev", {"prompt": "a fox", "deliver": "link"})
            from_meta = await client.call_tool("generate-fluxdev", {"prompt": "a fox", "deliver": "link"},
                                               meta={"traceparent": TRACEPARENT})
    assert from_headers.is_error is False and from_meta.is_error is False
    assert upstream.carriers == [{"traceparent": other, "tracestate": "vendor=1"},
                                 {"traceparent": TRACEPARENT}]


async def test_serve_mcp_over_http_links_to_its_own_address(tmp_path: Any) -> None:
    """``imagegate serve mcp --transport streamable-http`` without GATEWAY__PUBLIC_URL: the links
    are based at the address it listens on, and fetching one gives the image."""
    import os
    import socket
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("STORAGE__", "GATEWAY__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp", "--transport",
        "streamable-http", "--port", str(port), env=env, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with asyncio.timeout(60):
            while True:  # ready once it accepts a connection
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
        async with Client(url) as client:
            result = await client.call_tool("generate_image", {"prompt": "a fox", "size": "64x64"})
        image = result.structured_content["images"][0]
        assert image["url"].startswith(f"http://127.0.0.1:{port}/files/{image['id']}?exp=")
        async with aiohttp.ClientSession() as session, session.get(image["url"]) as response:
            assert response.status == 200
            assert hashlib.sha256(await response.read()).hexdigest() == image["sha256"]
    finally:
        process.terminate()
        await process.wait()


async def test_an_oversized_resource_uri_is_not_echoed(http_server: RunningServer) -> None:
    from mcp import MCPError

    uri = "imagegate://images/" + "B" * 300_000
    async with Client(http_server.url, mode="legacy") as client:
        with pytest.raises(MCPError) as missing:
            await client.read_resource(uri)
    assert missing.value.error.code == -32002
    assert len(missing.value.error.model_dump_json()) < 2500


async def test_edit_of_a_stored_image_names_it_in_parent_ids(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        made = await client.call_tool("generate_image", {"prompt": "a hill", "model": "placeholder", "size": "64x64"})
        base = made.structured_content["images"][0]
        edited = await client.call_tool("edit_image", {"prompt": "add a moon", "images": [base["id"]],
                                                       "model": "placeholder", "size": "64x64"})
    assert base["parent_ids"] == []
    assert edited.structured_content["images"][0]["parent_ids"] == [base["id"]]


async def test_generate_a_grid_lists_tiles_then_the_grid(http_server: RunningServer) -> None:
    cells = ["a kite", "a boat", "a tree", "a sun"]
    async with Client(http_server.url) as client:
        done = await client.call_tool("generate_image", {"prompt": "flat colours", "model": "placeholder",
                                                         "size": "128x128", "grid": "2x2", "cells": cells})
        refused = await client.call_tool("generate_image", {"prompt": "x", "model": "placeholder",
                                                            "grid": "2x2", "cells": ["a", "b"]})
    result = done.structured_content
    *tiles, grid = result["images"]
    assert result["grid"] == {"id": grid["id"], "rows": 2, "columns": 2}
    assert [tile["cell"] for tile in tiles] == [{"row": r, "column": c, "index": 2 * r + c}
                                                for r in (0, 1) for c in (0, 1)]
    assert all(tile["parent_ids"] == [grid["id"]] for tile in tiles) and len({t["sha256"] for t in tiles}) == 4
    assert {(tile["width"], tile["height"]) for tile in tiles} == {(59, 59)}  # 3 px gutters
    assert error_of(refused)["param"] == "cells"
    metadata = await http_server.gateway.metadata(tiles[2]["id"])
    assert metadata["description"] == "a tree" and metadata["paid_by"] == grid["id"]


async def test_transform_image_tool(http_server: RunningServer) -> None:
    async with Client(http_server.url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        made = await client.call_tool("generate_image", {"prompt": "a hill", "model": "placeholder", "size": "200x100"})
        source = made.structured_content["images"][0]["id"]
        done = await client.call_tool("transform_image", {"image": source, "op": "thumbnail", "size": 50})
        bad = await client.call_tool("transform_image", {"image": source, "op": "convert", "format": "gif"})
        missing = await client.call_tool("transform_image", {"image": source, "op": "crop", "width": 5})
    assert tools["transform_image"].annotations.destructive_hint is False
    assert tools["transform_image"].output_schema["required"] == ["images", "source"]
    image = done.structured_content["images"][0]
    assert image["parent_ids"] == [source] and (image["width"], image["height"]) == (50, 25)
    assert done.structured_content["source"] == source
    assert error_of(bad)["param"] == "format" and error_of(missing)["param"] == "height"
