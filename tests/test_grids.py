"""Grids end to end in-process: validation before any provider call, the composed prompt, the cut
at the gutters in the pixels, and the tiles' lineage; plus the cutter alone on drawn grids."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegate._default_plugins.placeholder_grid import panel_boxes
from imagegate._errors import InvalidRequest
from imagegate._grid_cut import cut_grid
from imagegate._models import ImageInput, ImageRequest
from imagegate.testing import AttemptCounter, opened_gateway, temp_settings


@pytest.fixture
async def gateway_and_calls(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    counter = AttemptCounter()
    settings = temp_settings(tmp_path, gateway=getattr(request, "param", {}))
    async with opened_gateway(settings, ("count", counter)) as gateway:
        yield gateway, counter


def _pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def assert_no_gutter_edges(tile: Image.Image) -> None:
    """No edge line of a tile is all gutter colour."""
    width, height = tile.size
    for box in ((0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height), (width - 1, 0, width, height)):
        extrema = tile.crop(box).getextrema()
        assert not all(low >= 235 for low, _ in extrema), f"gutter left on edge {box}"


async def test_a_3x3_grid_is_one_call_and_ten_stored_images(gateway_and_calls: Any) -> None:
    gateway, counter = gateway_and_calls
    cells = [f"panel {i}: a {word}" for i, word in enumerate("cat dog fox owl bee elk yak emu ant".split())]
    result = await gateway.generate(ImageRequest(model="placeholder", size="600x450", grid="3x3", cells=cells))
    assert counter.attempts == 1
    tiles, grid = result.images[:-1], result.images[-1]
    assert len(tiles) == 9 and result.grid == {"id": grid.id, "rows": 3, "columns": 3}
    boxes = panel_boxes(600, 450, 3, 3)
    for index, (tile, box) in enumerate(zip(tiles, boxes, strict=True)):
        assert tile.cell == {"row": index // 3, "column": index % 3, "index": index}
        assert (tile.width, tile.height) == (box[2] - box[0], box[3] - box[1])
        pixels = _pixels(bytes(tile.data))
        assert_no_gutter_edges(pixels)
        # the tile is the panel drawn there, not a shifted window
        expected = _pixels(bytes(grid.data)).crop(box)
        assert pixels.tobytes() == expected.tobytes()
        metadata = await gateway.metadata(tile.id)
        assert metadata["parent_ids"] == [grid.id] and metadata["paid_by"] == grid.id
        assert metadata["cell"] == tile.cell and metadata["description"] == cells[index]
        assert metadata["cost"] == {"estimated_usd": 0.0, "actual_usd": 0.0}
        assert metadata["request_id"] == result.request_id
    assert len({tile.sha256 for tile in tiles}) == 9  # every panel differs
    grid_meta = await gateway.metadata(grid.id)
    assert grid_meta["parent_ids"] == [] and grid_meta["grid"]["cells"] == cells
    assert "3 rows by 3 columns" in grid_meta["prompt"] and "Panel 9 (row 3, column 3): panel 8: a ant" in grid_meta["prompt"]
    assert result.contract()["grid"]["id"] == grid.id


async def test_one_prompt_gives_distinct_panels(gateway_and_calls: Any) -> None:
    gateway, counter = gateway_and_calls
    result = await gateway.generate(ImageRequest(model="placeholder", prompt="a robot", size="256x256", grid="1x4",
                                                 params={"output_format": "jpeg"}))
    tiles = result.images[:-1]
    assert len(tiles) == 4 and all(t.mime_type == "image/jpeg" for t in tiles)
    assert len({t.sha256 for t in tiles}) == 4 and counter.attempts == 1
    assert "Every panel: a robot" in (await gateway.metadata(result.images[-1].id))["prompt"]
    for tile in tiles:
        assert_no_gutter_edges(_pixels(bytes(tile.data)))


@pytest.mark.parametrize(("request_fields", "param"), [
    ({"grid": "7x1", "prompt": "x"}, "grid"),
    ({"grid": "0x2", "prompt": "x"}, "grid"),
    ({"grid": "three", "prompt": "x"}, "grid"),
    ({"grid": "2x2", "cells": ["a", "b", "c"]}, "cells"),
    ({"grid": "2x2", "cells": ["a", "b", "c", " "]}, "cells"),
    ({"cells": ["a"], "prompt": "x"}, "cells"),
    ({"grid": "2x2"}, "cells"),
    ({"grid": "2x2", "prompt": "x", "n": 2}, "n"),
    ({"grid": "2x2", "prompt": "x", "params": {"output_format": "svg"}}, "grid"),
])
async def test_bad_grids_fail_before_any_call(gateway_and_calls: Any, request_fields: dict[str, Any],
                                              param: str) -> None:
    gateway, counter = gateway_and_calls
    with pytest.raises(InvalidRequest) as failed:
        await gateway.generate(ImageRequest(model="placeholder", size="256x256", **request_fields))
    assert failed.value.param == param and counter.attempts == 0
    if param == "grid":
        assert "6" in failed.value.message or "png" in failed.value.message


async def test_edit_takes_no_grid(gateway_and_calls: Any) -> None:
    from imagegate.testing import image_bytes

    gateway, counter = gateway_and_calls
    with pytest.raises(InvalidRequest) as failed:
        await gateway.edit(ImageRequest(model="placeholder", prompt="x", grid="2x2",
                                        images=[ImageInput(kind="bytes", value=image_bytes(64, 64))]))
    assert failed.value.param == "grid" and counter.attempts == 0


@pytest.mark.parametrize("gateway_and_calls", [{"grid_prompt_template": "GRID {rows}/{columns} ({count}) {panels}"}],
                         indirect=True)
async def test_the_template_setting_shapes_the_prompt(gateway_and_calls: Any) -> None:
    gateway, _ = gateway_and_calls
    result = await gateway.generate(ImageRequest(model="placeholder", size="128x128", grid="2x1", cells=["a", "b"]))
    prompt = (await gateway.metadata(result.images[-1].id))["prompt"]
    assert prompt.startswith("GRID 2/1 (2) Panel 1 (row 1, column 1): a")


@pytest.mark.parametrize("template", ["no panels here {rows}", "{panels} {unknown}"])
def test_a_bad_template_is_a_config_error(tmp_path: Path, template: str) -> None:
    with pytest.raises(InvalidRequest) as failed:
        temp_settings(tmp_path, gateway={"grid_prompt_template": template})
    assert "GATEWAY__GRID_PROMPT_TEMPLATE" in failed.value.message


def _drawn_grid(widths: list[int], heights: list[int], gutters_x: list[int], gutters_y: list[int],
                fmt: str = "PNG") -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """A grid with uneven panels and gutters (outer borders included in the gutter lists)."""
    width, height = sum(widths) + sum(gutters_x), sum(heights) + sum(gutters_y)
    canvas = Image.new("RGB", (width, height), (20, 20, 20))
    boxes = []
    y = gutters_y[0]
    for r, h in enumerate(heights):
        x = gutters_x[0]
        for c, w in enumerate(widths):
            panel = Image.linear_gradient("L").point(lambda v: 100 + v // 2).resize((w, h)).convert("RGB")
            panel.paste((60 * c + 40, 50 * r + 30, 200), (w // 4, h // 4, w // 2, h // 2))
            canvas.paste(panel, (x, y))
            boxes.append((x, y, x + w, y + h))
            x += w + gutters_x[c + 1]
        y += h + gutters_y[r + 1]
    buffer = io.BytesIO()
    canvas.save(buffer, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue(), boxes


def test_cut_follows_uneven_gutters() -> None:
    data, boxes = _drawn_grid([90, 110, 100], [70, 80], [6, 12, 4, 9], [3, 10, 7])
    tiles = cut_grid(data, 2, 3)
    assert [_pixels(t).size for t in tiles] == [(b[2] - b[0], b[3] - b[1]) for b in boxes]
    whole = _pixels(data)
    for tile, box in zip(tiles, boxes, strict=True):
        assert _pixels(tile).tobytes() == whole.crop(box).tobytes()


def test_cut_of_a_jpeg_grid_leaves_no_gutter() -> None:
    data, boxes = _drawn_grid([100, 100], [100, 100], [8, 8, 8], [8, 8, 8], fmt="JPEG")
    tiles = cut_grid(data, 2, 2)
    for tile, box in zip(tiles, boxes, strict=True):
        size = _pixels(tile).size
        assert abs(size[0] - (box[2] - box[0])) <= 2 and abs(size[1] - (box[3] - box[1])) <= 2
        assert Image.open(io.BytesIO(tile)).format == "JPEG"


def test_without_gutters_the_cut_is_the_even_division() -> None:
    image = Image.linear_gradient("L").resize((300, 200)).convert("RGB").rotate(30, expand=False, fillcolor=(1, 2, 3))
    noisy = Image.effect_noise((300, 200), 60).convert("RGB")
    blended = Image.blend(image, noisy, 0.5)
    buffer = io.BytesIO()
    blended.save(buffer, "PNG")
    tiles = cut_grid(buffer.getvalue(), 2, 3)
    assert [_pixels(t).size for t in tiles] == [(100, 100)] * 6
    assert len({hashlib.sha256(t).hexdigest() for t in tiles}) == 6
