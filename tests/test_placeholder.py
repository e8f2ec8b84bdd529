"""The placeholder provider through the whole pipeline, and the conformance suite on it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from imagegate._models import ImageInput, ImageRequest
from imagegate.testing import (
    FakeSleep,
    ProviderConformance,
    ProviderTarget,
    image_bytes,
    opened_gateway,
    temp_settings,
)


@pytest.fixture
def gateway(imagegate_gateway):  # type: ignore[no-untyped-def]
    """The test kit's opened placeholder gateway, under a short name for this module."""
    return imagegate_gateway


class TestPlaceholderConformance(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, tmp_path: Path) -> AsyncIterator[ProviderTarget]:
        async with opened_gateway(temp_settings(tmp_path), sleep=FakeSleep()) as gateway:
            yield ProviderTarget(
                gateway=gateway,
                valid=ImageRequest(prompt="a red fox", size="128x96", n=2),
                invalid=ImageRequest(prompt="a red fox", size="4096x4096"),
                upstream_calls=lambda: 0,
            )


async def _pixels(gateway, request: ImageRequest) -> tuple[bytes, Image.Image]:  # type: ignore[no-untyped-def]
    result = await gateway.run("generate", request)
    data = await gateway.read(result.images[0].id)
    return data, Image.open(io.BytesIO(data))


async def test_prompt_changes_pixels_and_same_inputs_same_bytes(gateway) -> None:  # type: ignore[no-untyped-def]
    a, image_a = await _pixels(gateway, ImageRequest(prompt="a lighthouse at dusk", size="200x120"))
    b, _ = await _pixels(gateway, ImageRequest(prompt="a lighthouse at dusk", size="200x120"))
    c, image_c = await _pixels(gateway, ImageRequest(prompt="a forest at dawn", size="200x120"))
    assert a == b
    assert image_a.tobytes() != image_c.tobytes()
    assert image_a.size == (200, 120)


@pytest.mark.parametrize(("fmt", "mime"), [("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp"),
                                           ("svg", "image/svg+xml")])
async def test_each_format_is_verified_and_stored(gateway, fmt: str, mime: str) -> None:  # type: ignore[no-untyped-def]
    result = await gateway.run("generate", ImageRequest(prompt="x", size="96x64", params={"output_format": fmt}))
    image = result.images[0]
    assert image.mime_type == mime and (image.width, image.height) == (96, 64)


async def test_transparent_background_has_real_alpha(gateway) -> None:  # type: ignore[no-untyped-def]
    _, image = await _pixels(gateway, ImageRequest(prompt="x", size="64x64", params={"background": "transparent"}))
    assert image.mode == "RGBA" and image.getextrema()[3][0] == 0


async def test_transparent_jpeg_is_refused_before_rendering(gateway) -> None:  # type: ignore[no-untyped-def]
    from imagegate._errors import InvalidRequest

    with pytest.raises(InvalidRequest) as caught:
        await gateway.run("generate", ImageRequest(prompt="x", params={"background": "transparent",
                                                                      "output_format": "jpeg"}))
    assert caught.value.param == "output_format"


async def test_edit_and_variation_from_a_stored_id(gateway) -> None:  # type: ignore[no-untyped-def]
    first = await gateway.run("generate", ImageRequest(prompt="source", size="80x80"))
    source_id = first.images[0].id
    edited = await gateway.run("edit", ImageRequest(prompt="add a moon", images=[ImageInput(kind="id", value=source_id)]))
    varied = await gateway.run("variation", ImageRequest(images=[ImageInput(kind="id", value=source_id)], n=2))
    assert (edited.images[0].width, edited.images[0].height) == (80, 80)
    assert len(varied.images) == 2 and varied.images[0].sha256 != first.images[0].sha256


async def test_tiny_input_images_are_refused_clearly(gateway) -> None:  # type: ignore[no-untyped-def]
    from imagegate._errors import InvalidRequest

    with pytest.raises(InvalidRequest) as caught:
        await gateway.run("edit", ImageRequest(prompt="0", images=[ImageInput(kind="bytes", value=image_bytes(1, 1))]))
    assert caught.value.param == "image" and "64x64" in caught.value.message
