"""Smoke run of the benchmark harness pieces (bench/): no timing assertions."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import aiohttp
import orjson
import pybase64
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a top-level folder of the repo, not an installed package
    sys.path.insert(0, str(REPO))

from bench.fake_upstream import FakeUpstream  # noqa: E402
from bench.load import percentile, run_load  # noqa: E402

SPECS = REPO / "specs"


@pytest.fixture
async def upstream():
    """The fake upstream on a free port, stopped even when the test fails."""
    fake = FakeUpstream()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_fake_upstream_answers_an_images_response_with_a_png(upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{upstream.base_url}/images/generations", json={"model": "gpt-image-2.6-sunburst", "prompt": "x"},
                          headers={"Authorization": "Bearer sk-bench"}) as r:
            assert r.status == 200
            body = orjson.loads(await r.read())
    assert isinstance(body["created"], int)
    assert set(body["usage"]) >= {"total_tokens", "input_tokens", "output_tokens", "input_tokens_details"}
    png = pybase64.b64decode(body["data"][0]["b64_json"], validate=True)
    assert png == upstream.prepared("big").png
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        assert img.size == (1024, 1024)
    assert len(png) > 1_500_000  # noise: PNG cannot squeeze it below ~2 MB
    assert upstream.calls == 1


async def test_fake_upstream_answers_valid_per_openai_spec(upstream: FakeUpstream) -> None:
    from imagegate_openai.testing import SpecValidator

    validator = SpecValidator(SPECS / "openai.images-responses.openapi.json")
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{upstream.base_url}/images/generations", json={"prompt": "x", "n": 2},
                          headers={"Authorization": "Bearer sk-bench"}) as r:
            body = orjson.loads(await r.read())
    validator.check("ImagesResponse", body)
    assert len(body["data"]) == 2


async def test_fake_upstream_holds_calls_until_released(upstream: FakeUpstream) -> None:
    control = f"http://127.0.0.1:{upstream.port}/_control"
    async with aiohttp.ClientSession() as s:
        async with s.post(control, json={"hold": True, "image": "small"}) as r:
            assert (await r.json())["holding"] == 0

        async def generate() -> int:
            async with s.post(f"{upstream.base_url}/images/generations", json={"prompt": "x"},
                              headers={"Authorization": "Bearer sk-bench"}) as r:
                await r.read()
                return r.status

        calls = [asyncio.ensure_future(generate()) for _ in range(3)]
        deadline = asyncio.get_running_loop().time() + 10
        while upstream.holding < 3:
            assert asyncio.get_running_loop().time() < deadline, "the calls never arrived"
            await asyncio.sleep(0.01)
        assert not any(call.done() for call in calls)
        async with s.post(control, json={"hold": False}) as r:
            await r.read()
        assert await asyncio.gather(*calls) == [200, 200, 200]
    assert upstream.holding == 0


async def test_fake_upstream_rejects_a_missing_key_and_switches_image(upstream: FakeUpstream) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{upstream.base_url}/images/generations", json={"prompt": "x"}) as r:
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "invalid_api_key"
        async with s.post(f"http://127.0.0.1:{upstream.port}/_control", json={"image": "small"}) as r:
            assert (await r.json())["image"] == "small"
        async with s.post(f"{upstream.base_url}/models/acme/flux/predictions", json={"input": {"prompt": "x"}}) as r:
            assert r.status == 201
            prediction = await r.json()
        assert prediction["status"] == "succeeded"
        async with s.get(prediction["output"][0]) as r:
            data = await r.read()
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (256, 256)


@pytest.mark.parametrize("identity", [False, True])
async def test_load_generator_counts_successes(upstream: FakeUpstream, identity: bool) -> None:
    report = await run_load(f"{upstream.base_url}/images/generations", {"model": "gpt-image-2.6-sunburst", "prompt": "x"},
                            count=5, concurrency=2, time_limit_s=60, headers={"Authorization": "Bearer sk-bench"},
                            accept_encoding="identity" if identity else None, expect=b'"b64_json"')
    assert report["ok"] == 5
    assert report["requests"] == 5
    assert report["error_count"] == 0
    assert report["bytes"]["body"] >= 5 * len(upstream.prepared("big").png)
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert report["throughput_rps"] > 0
    assert upstream.calls == 5
    orjson.dumps(report)  # JSON-ready


async def test_load_generator_counts_errors(upstream: FakeUpstream) -> None:
    report = await run_load(f"{upstream.base_url}/images/generations", {"prompt": "x"}, count=3, concurrency=1,
                            time_limit_s=60)
    assert report["ok"] == 0
    assert report["errors"] == {"http_401": 3}
    assert report["latency_ms"]["p50"] is None


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) is None


def test_mcp_answer_is_found_in_json_and_sse_bodies() -> None:
    from bench.mcp_load import McpError, answer_of

    message = {"jsonrpc": "2.0", "id": 3, "result": {"isError": False}}
    assert answer_of(orjson.dumps(message), "application/json", 3) == message
    sse = (b"event: message\r\ndata: " + orjson.dumps({"jsonrpc": "2.0", "method": "notifications/progress"})
           + b"\r\n\r\nevent: message\r\ndata: " + orjson.dumps(message) + b"\r\n\r\n")
    assert answer_of(sse, "text/event-stream", 3) == message
    with pytest.raises(McpError) as caught:
        answer_of(sse, "text/event-stream", 4)
    assert caught.value.kind == "no_answer"


@pytest.fixture
async def mcp_processes(tmp_path: Path):
    """The fake upstream and ``imagegate serve mcp --transport streamable-http`` as compare starts them."""
    from bench.compare import Processes

    procs = Processes(tmp_path, pin=False, disable=None)
    try:
        procs.start_upstream()
        await procs.start_mcp()
        yield procs
    finally:
        procs.stop()


async def test_mcp_cell_calls_generate_image_over_streamable_http(mcp_processes) -> None:
    from bench.compare import MODEL, Plan, mcp_matrix, table

    plan = Plan(delays_ms=(0,), images=("small",), concurrency=(1,), counts={1: 3, 2: 4}, time_limit_s=60,
                identity_concurrency=(), soak=0, warmup=2, mcp_images=("small",), mcp_concurrency=(2,))
    await mcp_processes.control(image="small")
    mcp_processes.gateway = mcp_processes.mcp  # measure() reads a gateway pid even for direct runs
    lines: list[str] = []
    runs = await mcp_matrix(mcp_processes, plan, lines.append)
    assert [(r["target"], r["concurrency"]) for r in runs] == [("direct", 2), ("mcp", 2)]
    mcp = runs[1]
    assert (mcp["ok"], mcp["error_count"], mcp["requests"]) == (4, 0, 4)
    assert mcp["content_blocks"] >= 2 * 4  # the JSON text block and a resource_link per call
    assert mcp["arguments"] == {"model": MODEL, "prompt": "a benchmark image", "deliver": "link"}
    assert mcp["gateway_cpu_ms_per_request"] is not None and mcp["gateway_peak_rss_mb"] > 0
    assert mcp["stored_files_removed"] >= 4  # each call stored its image (and metadata)
    assert runs[0]["ok"] == 4
    text = table(runs)
    assert "mcp      link" in text
    assert runs[1]["added_p50_ms"] is not None
    orjson.dumps(runs)  # JSON-ready

    from bench.mcp_load import run_mcp_load

    failing = await run_mcp_load(mcp_processes.mcp_url, arguments={"model": "no-such-model", "prompt": "x"},
                                 count=2, concurrency=1, time_limit_s=60)
    assert (failing["ok"], failing["errors"]) == (0, {"tool_error": 2})
