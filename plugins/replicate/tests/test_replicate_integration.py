"""The whole pipeline against FakeReplicate on 127.0.0.1: Gateway.run and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from imagegate._errors import ImagegateError
from imagegate._models import ImageRequest
from imagegate_replicate.fake_schemas import COMMUNITY_MODEL, COMMUNITY_VERSION


async def _until(condition: Any, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


async def test_sync_mode_flux_dev(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a lighthouse", model="flux-dev", n=3,
                                                        params={"aspect_ratio": "16:9"}))
    assert [image.mime_type for image in result.images] == ["image/webp"] * 3
    (create,) = fake.creates
    assert create.body == {"input": {"prompt": "a lighthouse", "aspect_ratio": "16:9", "num_outputs": 3}}
    assert create.headers["Prefer"] == "wait=60" and create.headers["Cancel-After"].endswith("s")
    assert not fake.calls_to("/v1/predictions/", "GET")
    assert len(fake.calls_to("/files/", "GET")) == 3
    assert fake.schema_errors == []


async def test_slow_mode_polls_until_succeeded(fake, make_gateway) -> None:
    fake.mode = "slow"
    gateway = await make_gateway(fake.base_url)
    statuses: list[str] = []
    result = await gateway.run("generate", ImageRequest(prompt="a fox", model="flux-dev", params={"output_format": "jpg"}),
                               progress=lambda message, data: statuses.append(data.get("status")))
    assert statuses == ["starting", "processing", "succeeded"]
    assert len(fake.calls_to("/v1/predictions/", "GET")) == 2
    assert result.images[0].mime_type == "image/jpeg"
    assert fake.schema_errors == []


async def test_recraft_svg_is_stored_cleaned(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a fox logo", model="recraft-v3-svg",
                                                        size="1365x1024", params={"style": "line_art"}))
    assert fake.creates[0].body == {"input": {"prompt": "a fox logo", "style": "line_art", "size": "1365x1024"}}
    (image,) = result.images
    assert image.mime_type == "image/svg+xml"
    stored = bytes(await gateway.read(image.id)).lower()
    assert b"<svg" in stored and b"<circle" in stored
    for active in (b"<script", b"onload", b"onclick", b"document.cookie"):
        assert active not in stored
    assert Path(image.path).suffix == ".svg"


async def test_fan_out_for_a_model_without_count_field(fake, make_gateway) -> None:
    fake.mode = "slow"
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro", n=2))
    assert len(fake.creates) == 2
    assert all("num_outputs" not in create.body["input"] for create in fake.creates)
    assert len(result.images) == 2
    assert any("2 calls" in note for note in result.notes)
    assert result.cost.estimated_usd == pytest.approx(0.08)
    assert fake.schema_errors == []


async def test_cancel_when_the_deadline_passes(fake, make_gateway) -> None:
    fake.keep_processing = True
    gateway = await make_gateway(fake.base_url, timeout_s=0.3)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro"))
    assert info.value.code == "timeout"
    (create,) = fake.creates
    assert create.headers["Cancel-After"] == "5s"  # Replicate's minimum; the deadline was 0.3 s
    (cancel,) = fake.cancels
    pid = cancel.path.split("/")[-2]
    assert fake.predictions[pid].record["status"] == "canceled"
    assert cancel.authorized
    assert fake.schema_errors == []


async def test_cancel_when_a_sync_wait_expires_and_the_deadline_passes(fake, make_gateway) -> None:
    fake.keep_processing = True
    fake.max_wait_s = 0.05
    gateway = await make_gateway(fake.base_url, timeout_s=0.4)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="recraft-v3-svg"))
    assert info.value.code == "timeout"
    assert fake.creates[0].headers["Prefer"] == "wait=1"
    assert len(fake.cancels) == 1


async def test_cancel_when_the_caller_goes_away(fake, make_gateway) -> None:
    fake.keep_processing = True
    gateway = await make_gateway(fake.base_url)
    task = asyncio.create_task(gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro")))
    await _until(lambda: len(fake.calls_to("/v1/predictions/", "GET")) >= 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(fake.cancels) == 1
    assert all(p.record["status"] == "canceled" for p in fake.predictions.values())


async def test_upstream_500_is_retried(fake, make_gateway, sleeps) -> None:
    fake.fail_with(500, {"title": "Internal Server Error", "detail": "boom", "status": 500}, path="/predictions")
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
    assert len(fake.creates) == 2 and len(sleeps) == 1
    assert len(result.images) == 1


async def test_failed_prediction_is_not_retried(fake, make_gateway) -> None:
    fake.finish_as("failed", "NSFW content detected. Try running it again, or try a different prompt.")
    gateway = await make_gateway(fake.base_url)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
    assert info.value.code == "content_filtered" and len(fake.creates) == 1
    assert fake.schema_errors == []


async def test_wrong_token_is_authentication(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url, api_token="r8_wrong_secret")
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
    assert info.value.code == "authentication"
    assert "r8_wrong_secret" not in json.dumps(info.value.to_dict())


async def test_community_model_by_version(fake, make_gateway) -> None:
    fake.mode = "slow"
    gateway = await make_gateway(fake.base_url)
    model = f"replicate/{COMMUNITY_MODEL}:{COMMUNITY_VERSION}"
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model=model, params={"scheduler": "PNDM"}))
    assert (info.value.code, info.value.param) == ("invalid_request", "scheduler")
    assert fake.creates == []
    result = await gateway.run("generate", ImageRequest(prompt="a cat", model=model, n=2,
                                                        params={"guidance_scale": 9.5}))
    assert [c.body["version"] for c in fake.creates] == [COMMUNITY_VERSION, COMMUNITY_VERSION]
    assert all(c.path == "/v1/predictions" for c in fake.creates)
    assert len(result.images) == 2 and any("2 calls" in note for note in result.notes)
    assert len(fake.calls_to("/versions/", "GET")) == 1
    assert fake.schema_errors == []


async def test_official_model_not_in_the_catalog_and_unknown_model(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a cat", model="replicate/recraft-ai/recraft-v3-svg:"
                                                        + fake.models["recraft-ai/recraft-v3-svg"].version))
    assert result.images[0].mime_type == "image/svg+xml"
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="replicate/nobody/nothing"))
    assert (info.value.code, info.value.param) == ("not_found", "model")


def _cli_env(fake: Any, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PROVIDERS__", "STORAGE__"))}
    env.update(PROVIDERS__REPLICATE__BASE_URL=fake.base_url, PROVIDERS__REPLICATE__API_TOKEN="r8_test",
               PROVIDERS__REPLICATE__POLL_INTERVAL_S="0.01", STORAGE__LOCAL__ROOT=str(tmp_path / "images"),
               STORAGE__SPOOL_DIR=str(tmp_path / "spool"), IMAGEGATE_DISABLE_PLUGINS="observability,openai,storage-s3,http,mcp")
    return env


async def _cli(fake: Any, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_cli_env(fake, tmp_path))
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, json.loads(out or b"{}")


@pytest.mark.parametrize(("args", "mime", "count"), [
    (["-m", "flux-dev", "-n", "2", "--param", "num_inference_steps=20"], "image/webp", 2),
    (["-m", "flux-1.1-pro", "--param", "output_format=png"], "image/png", 1),
    (["-m", "recraft-v3-svg", "--size", "1024x1024", "--param", "style=engraving"], "image/svg+xml", 1),
    (["-m", "flux-2-flex", "-n", "2", "--param", "steps=20", "--param", "prompt_upsampling=false"], "image/webp", 2),
    (["-m", "flux-2-klein-4b", "--param", "output_format=png"], "image/png", 1),
    (["-m", f"replicate/{COMMUNITY_MODEL}:{COMMUNITY_VERSION}", "--param", "width=256"], "image/png", 1),
])
async def test_cli_generate(fake, tmp_path, args, mime, count) -> None:
    fake.mode = "slow"
    status, document = await _cli(fake, tmp_path, "generate", "a red kite", *args, "--json")
    assert status == 0, document
    assert [image["mime_type"] for image in document["images"]] == [mime] * count
    assert all(Path(image["path"]).is_file() for image in document["images"])
    assert fake.creates and fake.creates[0].body["input"]["prompt"] == "a red kite"
    assert fake.schema_errors == []


async def test_cli_reports_upstream_errors_as_json(fake, tmp_path) -> None:
    fake.fail_with(402, {"title": "Insufficient credit", "detail": "You have insufficient credit.", "status": 402})
    status, document = await _cli(fake, tmp_path, "generate", "a kite", "-m", "flux-dev", "--json")
    assert status == 1
    assert document["error"]["code"] == "quota_exceeded" and document["error"]["provider"] == "replicate"
    assert "r8_test" not in json.dumps(document)


async def test_cli_edit_sends_every_reference_image(fake, tmp_path) -> None:
    from PIL import Image

    from imagegate_replicate.testing import decode_file_input

    paths = [tmp_path / "a.png", tmp_path / "b.jpg"]
    Image.new("RGB", (32, 32), (200, 0, 0)).save(paths[0])
    Image.new("RGB", (32, 32), (0, 0, 200)).save(paths[1])
    status, document = await _cli(fake, tmp_path, "edit", *map(str, paths), "--prompt", "both, side by side",
                                  "-m", "flux-2-klein-4b", "--param", "aspect_ratio=match_input_image", "--json")
    assert status == 0, document
    sent = fake.creates[0].body["input"]
    assert [decode_file_input(uri) for uri in sent["images"]] == [
        ("image/png", paths[0].read_bytes()), ("image/jpeg", paths[1].read_bytes())]
    assert sent["aspect_ratio"] == "match_input_image" and document["images"][0]["mime_type"] == "image/jpeg"
    assert fake.schema_errors == []
