"""Generate and edit through a gateway against the loopback Gemini fake: what is sent, what comes back."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from imagegate import ImageInput, ImageRequest
from imagegate.testing import image_bytes

from .support import KEY

MODEL = "gemini-nano-banana-2.1"


def _size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


async def test_generate_sends_the_image_config_and_keeps_the_models_words(gateway: Any, fake: Any) -> None:
    fake.text = "Here is a lighthouse at dawn, facing east."
    result = await gateway.run("generate", ImageRequest(
        model=MODEL, prompt="a lighthouse at dawn",
        params={"aspect_ratio": "16:9", "image_size": "2K", "seed": 7, "temperature": 0.4}))
    fake.assert_valid()
    (call,) = fake.calls
    assert call.path == f"/v1beta/models/{MODEL}:generateContent"
    assert "x-goog-api-key" not in {h.lower() for h in call.headers}  # recorded without the credential
    assert call.body == {
        "contents": [{"role": "user", "parts": [{"text": "a lighthouse at dawn"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                             "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
                             "temperature": 0.4, "seed": 7}}
    (image,) = result.images
    width, height = _size(await gateway.read(image.id))
    assert width > height
    assert result.revised_prompt == "Here is a lighthouse at dawn, facing east."
    assert (await gateway.metadata(image.id))["model_version"] == MODEL
    assert result.usage["output_image_tokens"] == 1680 and result.usage["output_text_tokens"] == 12
    # $30/M image tokens, $1.50/M text in, $7.50/M text out
    expected = 1680 * 30 / 1e6 + result.usage["input_text_tokens"] * 1.5 / 1e6 + 12 * 7.5 / 1e6
    assert result.cost.actual_usd == pytest.approx(expected, abs=1e-6)
    assert result.cost.estimated_usd == pytest.approx(1680 * 30 / 1e6, rel=0.01)


async def test_image_only_modality_sends_image_and_gets_no_words(gateway: Any, fake: Any) -> None:
    fake.text = "ignored when only IMAGE is asked for"
    result = await gateway.run("generate", ImageRequest(
        model="gemini-3-pro-image", prompt="a fox", params={"response_modalities": "IMAGE"}))
    assert fake.calls[0].body["generationConfig"] == {"responseModalities": ["IMAGE"]}
    assert result.revised_prompt is None
    fake.assert_valid()


async def test_edit_sends_every_reference_image_as_inline_data(gateway: Any, fake: Any) -> None:
    shoe, logo = image_bytes(40, 30, seed=1), image_bytes(20, 20, "jpeg", seed=2)
    result = await gateway.run("edit", ImageRequest(
        model=MODEL, prompt="put the logo on the shoe",
        images=[ImageInput(kind="bytes", value=shoe), ImageInput(kind="bytes", value=logo)]))
    fake.assert_valid()
    parts = fake.calls[0].body["contents"][0]["parts"]
    assert parts[0] == {"text": "put the logo on the shoe"}
    assert [p["inlineData"]["mimeType"] for p in parts[1:]] == ["image/png", "image/jpeg"]
    assert [base64.b64decode(p["inlineData"]["data"]) for p in parts[1:]] == [shoe, logo]
    assert len(result.images) == 1
    assert result.usage["input_image_tokens"] == 2 * 1120


async def test_n_fans_out_one_call_per_image(gateway: Any, fake: Any) -> None:
    result = await gateway.run("generate", ImageRequest(model=MODEL, prompt="three cats", n=3))
    assert fake.call_count == 3
    assert all("candidateCount" not in c.body["generationConfig"] for c in fake.calls)
    assert len(result.images) == 3
    assert any("3 calls" in note for note in result.notes)


async def test_a_model_configured_with_candidate_count_asks_once(make_gateway: Any, fake: Any) -> None:
    gateway = await make_gateway(models={"gemini-3-pro-image": {"n_param": "candidateCount"}})
    result = await gateway.run("generate", ImageRequest(model="gemini-3-pro-image", prompt="two dogs", n=2))
    (call,) = fake.calls
    assert call.body["generationConfig"]["candidateCount"] == 2
    assert len(result.images) == 2
    fake.assert_valid()


async def test_unverified_models_let_every_documented_ratio_through(gateway: Any, fake: Any) -> None:
    await gateway.run("generate", ImageRequest(model="gemini-3-pro-image", prompt="a banner",
                                               params={"aspect_ratio": "8:1", "image_size": "512"}))
    assert fake.calls[0].body["generationConfig"]["imageConfig"] == {"aspectRatio": "8:1", "imageSize": "512"}


async def test_a_deprecated_model_runs_with_its_deprecation(gateway: Any, fake: Any) -> None:
    result = await gateway.run("generate", ImageRequest(model="gemini-3.1-flash-image", prompt="a boat"))
    assert result.images
    assert result.deprecation == {"shutdown_date": "2026-10-29", "replacement": "gemini-nano-banana-2.1"}


async def test_dry_run_estimates_from_the_catalog(gateway: Any, fake: Any) -> None:
    quote = await gateway.estimate("generate", ImageRequest(
        model="gemini-3-pro-image", prompt="x", n=2, params={"image_size": "4K"}))
    assert quote["cost"]["estimated_usd"] == pytest.approx(2 * 0.24, rel=0.01)  # $0.24 per 4K image
    assert fake.call_count == 0


async def test_the_key_travels_in_the_header_only(gateway: Any, fake: Any) -> None:
    await gateway.run("generate", ImageRequest(model=MODEL, prompt="a kite"))
    assert KEY not in str(fake.calls[0].path)
    assert fake.schema_errors == []


async def test_list_upstream_models(gateway: Any, fake: Any) -> None:
    provider = gateway.registry.providers["gemini"]
    listed = {m["id"]: m for m in await provider.list_upstream_models(gateway.session)}
    assert listed[MODEL]["image"] is True
    assert listed["gemini-3-flash"]["image"] is False
    assert "gemini-2.5-flash-image" not in listed


async def test_a_retired_model_translates_to_its_replacement(imagegate_make_gateway: Any, fake: Any) -> None:
    import imagegate_gemini

    gateway = await imagegate_make_gateway(
        imagegate_gemini, providers={"gemini": {"api_key": KEY, "base_url": fake.base_url, "max_retries": 0}},
        gateway={"retired_models": "translate"})
    result = await gateway.run("generate", ImageRequest(model="gemini-2.5-flash-image", prompt="a bridge",
                                                        params={"aspect_ratio": "4:5"}))
    assert result.resolved_model == MODEL
    (call,) = fake.calls
    assert call.path == f"/v1beta/models/{MODEL}:generateContent"
    assert call.body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:5"}
