"""Grids through the official ``openai`` SDK: ``extra_body={"grid", "cells"}``, ``data`` = the tiles in
cell order, an extra ``grid`` object with the whole image; one provider call."""

from __future__ import annotations

import base64
import io
from typing import Any

import aiohttp
import openai
import pytest
from PIL import Image

from imagegate.testing import AttemptCounter


def _edges_are_not_gutter(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    w, h = rgb.size
    boxes = ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h))
    return not any(all(low >= 235 for low, _ in rgb.crop(box).getextrema()) for box in boxes)


async def test_grid_answers_tiles_then_the_grid(serve) -> None:
    counter = AttemptCounter()
    served = await serve(plugins=[(counter, "count")])
    cells = ["a red kite", "a blue boat", "a green tree", "a gold sun", "a grey cat", "a pink rose"]
    answer = await served.client().images.generate(
        model="placeholder", prompt="children's book style", size="384x256",
        extra_body={"grid": "2x3", "cells": cells})
    assert counter.attempts == 1
    assert len(answer.data) == 6
    tiles = [base64.b64decode(item.b64_json) for item in answer.data]
    assert len(set(tiles)) == 6 and all(_edges_are_not_gutter(tile) for tile in tiles)
    sizes = set()
    for tile in tiles:
        with Image.open(io.BytesIO(tile)) as image:
            sizes.add(image.size)
    assert sizes == {(121, 120)}  # placeholder: 5 px gutters, (384 - 4*5) // 3 by (256 - 3*5) // 2
    grid = answer.model_extra["grid"]
    assert (grid["rows"], grid["columns"]) == (2, 3)
    with Image.open(io.BytesIO(base64.b64decode(grid["b64_json"]))) as whole:
        assert whole.size == (384, 256)
    extra = answer.model_extra["imagegate"]
    assert [image["cell"]["index"] for image in extra["images"][:-1]] == list(range(6))
    assert extra["images"][-1]["id"] == grid["id"] == extra["grid"]["id"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served.base_url}/v1/images/{extra['images'][4]['id']}") as response:
            tile = await response.json()
    assert tile["parent_ids"] == [grid["id"]] and tile["cell"] == {"row": 1, "column": 1, "index": 4}
    assert tile["description"] == "a grey cat" and tile["paid_by"] == grid["id"]


async def test_grid_as_urls(served) -> None:
    answer = await served.client().images.generate(model="placeholder", prompt="a robot", size="128x128",
                                                   response_format="url", extra_body={"grid": "1x2"})
    assert len(answer.data) == 2 and all(item.url for item in answer.data)
    assert answer.model_extra["grid"]["url"].startswith(served.base_url + "/files/")


@pytest.mark.parametrize(("extra", "param"), [({"grid": "2x2", "cells": ["a"]}, "cells"),
                                              ({"grid": "8x8"}, "grid"), ({"grid": "2x2", "cells": "abcd"}, "cells")])
async def test_bad_grid_is_a_400_naming_the_field(serve, extra: dict[str, Any], param: str) -> None:
    counter = AttemptCounter()
    served = await serve(plugins=[(counter, "count")])
    with pytest.raises(openai.BadRequestError) as failed:
        await served.client().images.generate(model="placeholder", prompt="x", size="128x128", extra_body=extra)
    assert failed.value.body["param"] == param and counter.attempts == 0
