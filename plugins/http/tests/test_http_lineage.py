"""GET /v1/images/{id} carries ``parent_ids``: an edit of a stored image names it."""

from __future__ import annotations

import aiohttp

from imagegate._models import ImageInput, ImageRequest


async def test_get_image_names_its_parents(served) -> None:
    client = served.client()
    answer = await client.images.generate(model="placeholder", prompt="a hill", size="64x64")
    base = answer.model_extra["imagegate"]["images"][0]
    assert base["parent_ids"] == []
    edited = await served.gateway.edit(ImageRequest(prompt="add a moon", model="placeholder", size="64x64",
                                                    images=[ImageInput(kind="id", value=base["id"])]))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{served.base_url}/v1/images/{edited.images[0].id}") as response:
            child = await response.json()
        async with session.get(f"{served.base_url}/v1/images/{base['id']}") as response:
            parent = await response.json()
    assert child["parent_ids"] == [base["id"]] and parent["parent_ids"] == []
