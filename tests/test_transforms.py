"""Transforms of stored images: new images with parent_ids=[source], originals untouched, errors
naming the parameter, bomb limits, and thumbnails made once then reused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegate._errors import InvalidRequest, NotFound
from imagegate._models import ImageRequest
from imagegate.testing.factories import opened_gateway, temp_settings
from imagegate._transforms import parse_transform


@pytest.fixture
async def gateway(tmp_path: Path) -> Any:
    async with opened_gateway(temp_settings(tmp_path)) as gateway:
        yield gateway


async def _source(gateway: Any, size: str = "300x200", fmt: str = "png") -> Any:
    result = await gateway.generate(ImageRequest(model="placeholder", prompt="a hill", size=size,
                                                 params={"output_format": fmt}))
    return result.images[0]


def _opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("op", "params", "size", "fmt"), [
    ("resize", {"width": 150}, (150, 100), "PNG"),
    ("resize", {"height": 50}, (75, 50), "PNG"),
    ("resize", {"width": 100, "height": 100}, (100, 67), "PNG"),
    ("resize", {"width": 100, "height": 100, "mode": "fill"}, (100, 100), "PNG"),
    ("crop", {"left": 10, "top": 20, "width": 50, "height": 60}, (50, 60), "PNG"),
    ("thumbnail", {"size": 64}, (64, 43), "PNG"),
    ("convert", {"format": "jpeg", "quality": 40}, (300, 200), "JPEG"),
    ("convert", {"format": "webp"}, (300, 200), "WEBP"),
])
async def test_transforms_make_new_images_and_leave_the_source(gateway: Any, op: str, params: dict[str, Any],
                                                               size: tuple[int, int], fmt: str) -> None:
    source = await _source(gateway)
    before = hashlib.sha256(await gateway.read(source.id)).hexdigest()
    made = await gateway.transform(source.id, op, params)
    assert made.id != source.id and made.parent_ids == [source.id]
    image = _opened(await gateway.read(made.id))
    assert (image.size, image.format) == (size, fmt) and (made.width, made.height) == size
    metadata = await gateway.metadata(made.id)
    assert metadata["parent_ids"] == [source.id] and metadata["transform"]["op"] == op
    assert metadata["sha256"] == hashlib.sha256(await gateway.read(made.id)).hexdigest()
    assert hashlib.sha256(await gateway.read(source.id)).hexdigest() == before == source.sha256


async def test_crop_is_the_pixels_of_the_source(gateway: Any) -> None:
    source = await _source(gateway)
    made = await gateway.transform(source.id, "crop", {"left": 30, "top": 40, "width": 20, "height": 10})
    whole = _opened(await gateway.read(source.id)).convert("RGB")
    assert _opened(await gateway.read(made.id)).convert("RGB").tobytes() == whole.crop((30, 40, 50, 50)).tobytes()


@pytest.mark.parametrize(("op", "params", "param"), [
    ("rotate", {}, "op"),
    ("resize", {}, "width"),
    ("resize", {"width": 0}, "width"),
    ("resize", {"width": 9000}, "width"),
    ("resize", {"width": 10, "mode": "stretch"}, "mode"),
    ("resize", {"width": 10, "mode": "fill"}, "height"),
    ("resize", {"width": 10, "size": 3}, "size"),
    ("crop", {"width": 10}, "height"),
    ("crop", {"left": 290, "width": 20, "height": 10}, "width"),
    ("crop", {"top": 195, "width": 20, "height": 10}, "height"),
    ("thumbnail", {}, "size"),
    ("thumbnail", {"size": 5000}, "size"),
    ("convert", {}, "format"),
    ("convert", {"format": "gif"}, "format"),
    ("convert", {"format": "png", "quality": 50}, "quality"),
    ("convert", {"format": "jpeg", "quality": 101}, "quality"),
    ("resize", {"width": 10, "quality": 50}, "quality"),  # the source stays png
])
async def test_errors_name_the_parameter(gateway: Any, op: str, params: dict[str, Any], param: str) -> None:
    source = await _source(gateway)
    before = len(await gateway.list())
    with pytest.raises(InvalidRequest) as failed:
        await gateway.transform(source.id, op, params)
    assert failed.value.param == param and failed.value.retryable is False
    assert len(await gateway.list()) == before


async def test_svg_and_unknown_sources_are_refused(gateway: Any) -> None:
    svg = await _source(gateway, fmt="svg")
    with pytest.raises(InvalidRequest) as failed:
        await gateway.transform(svg.id, "resize", {"width": 10})
    assert failed.value.param == "id" and "image/svg+xml" in failed.value.message
    with pytest.raises(NotFound):
        await gateway.transform("img_20260101_" + "a" * 26, "resize", {"width": 10})


async def test_a_decompression_bomb_is_refused_before_decoding(gateway: Any, tmp_path: Path) -> None:
    from imagegate._transforms import apply_transform, parse_transform

    bomb = io.BytesIO()
    Image.new("1", (1, 1)).save(bomb, "PNG")
    data = bytearray(bomb.getvalue())
    data[16:24] = (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big")  # IHDR width, height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    with pytest.raises(InvalidRequest) as failed:
        apply_transform(bytes(data), parse_transform("resize", {"width": 10}))
    assert failed.value.param == "id" and "too large" in failed.value.message


async def test_thumbnails_are_made_once_and_reused(gateway: Any) -> None:
    source = await _source(gateway)
    first = await gateway.thumbnail(source.id, 48)
    again = await gateway.thumbnail(source.id, 48)
    other = await gateway.thumbnail(source.id, 96)
    assert first.id == again.id != other.id and first.sha256 == again.sha256
    assert (first.width, first.height) == (48, 32) and first.parent_ids == [source.id]
    listed = [item["id"] for item in await gateway.list()]
    assert listed.count(first.id) == 1 and len(listed) == 3
    with pytest.raises(InvalidRequest) as failed:
        await gateway.thumbnail(source.id, 4)
    assert failed.value.param == "size"


def test_parse_keeps_only_what_was_given() -> None:
    assert parse_transform("resize", {"width": "64"}).as_dict() == {"op": "resize", "width": 64, "mode": "fit"}


def test_cli_transform(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__"))},
           "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
           "IMAGEGATE_DISABLE_PLUGINS": "observability"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    source = json.loads(run("generate", "a hill", "--size", "200x100", "--json").stdout)["images"][0]
    done = run("transform", source["id"], "resize", "--width", "100", "--height", "100", "--mode", "fill",
               "--format", "webp", "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)["images"][0]
    assert (made["width"], made["height"], made["mime_type"]) == (100, 100, "image/webp")
    assert made["parent_ids"] == [source["id"]] and Path(made["path"]).is_file()
    thumb = run("transform", source["id"], "thumbnail", "--size", "50")
    assert thumb.returncode == 0 and Path(thumb.stdout.strip()).is_file()
    assert run("transform", source["id"], "thumbnail", "--size", "50").stdout == thumb.stdout  # cached
    bad = run("transform", source["id"], "crop", "--width", "500", "--height", "5", "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["param"] == "width"
    found = json.loads(run("get", source["id"], "--lineage", "--json").stdout)
    assert {d["id"] for d in found["descendants"]} == {made["id"], thumb.stdout.strip().rsplit("/", 1)[1][:-4]}
