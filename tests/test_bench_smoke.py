"""Smoke run of the benchmark harness pieces (bench/): no timing assertions."""

from __future__ import annotations

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

SPECS = REPO / ".." / "shared" / "specs"


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
        async with s.post(f"{upstream.base_url}/images/generations", json={"model": "gpt-image-1", "prompt": "x"},
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
    report = await run_load(f"{upstream.base_url}/images/generations", {"model": "gpt-image-1", "prompt": "x"},
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
