"""POST /v1/images/{id}/transform and GET /v1/images/{id}/thumbnail against the real server."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image

from imagegate._transforms import thumbnail_id


async def _source_id(served) -> str:
    answer = await served.client().images.generate(model="placeholder", prompt="a hill", size="200x100")
    return answer.model_extra["imagegate"]["images"][0]["id"]


async def test_transform_answers_the_new_image(served) -> None:
    source = await _source_id(served)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{served.base_url}/v1/images/{source}/transform",
                                json={"op": "resize", "width": 50, "format": "jpeg", "quality": 70}) as response:
            assert response.status == 200
            made = await response.json()
        assert made["parent_ids"] == [source] and (made["width"], made["height"]) == (50, 25)
        assert made["mime_type"] == "image/jpeg" and made["transform"]["op"] == "resize"
        async with session.get(made["url"]) as response:
            with Image.open(io.BytesIO(await response.read())) as image:
                assert (image.format, image.size) == ("JPEG", (50, 25))
        async with session.post(f"{served.base_url}/v1/images/{source}/transform",
                                json={"op": "crop", "width": 500, "height": 5}) as response:
            assert response.status == 400
            error = (await response.json())["error"]
        assert error["param"] == "width" and "200x100" in error["message"]
        async with session.post(f"{served.base_url}/v1/images/{source}/transform", json={"width": 5}) as response:
            assert response.status == 400 and (await response.json())["error"]["param"] == "op"


async def test_thumbnail_is_made_once(served) -> None:
    source = await _source_id(served)
    async with aiohttp.ClientSession() as session:
        bodies = []
        for _ in range(2):
            async with session.get(f"{served.base_url}/v1/images/{source}/thumbnail?size=40") as response:
                assert response.status == 200 and response.content_type == "image/png"
                bodies.append(await response.read())
        async with session.get(f"{served.base_url}/v1/images/{source}/thumbnail?size=x") as response:
            assert response.status == 400 and (await response.json())["error"]["param"] == "size"
        async with session.get(f"{served.base_url}/v1/images?limit=100") as response:
            listed = (await response.json())["data"]
    assert bodies[0] == bodies[1]
    with Image.open(io.BytesIO(bodies[0])) as image:
        assert image.size == (40, 20)
    assert [item["id"] for item in listed] == [source]  # a cached thumbnail is never listed
    thumb = await served.gateway.metadata(thumbnail_id(source, 40))
    assert thumb["operation"] == "thumbnail" and thumb["parent_ids"] == [source]


async def test_openapi_describes_the_routes(served) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{served.base_url}/openapi.json") as response:
        document = await response.json()
    body = document["paths"]["/v1/images/{id}/transform"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("TransformImageRequest")
    assert document["components"]["schemas"]["TransformImageRequest"]["properties"]["op"]["enum"] == [
        "resize", "crop", "thumbnail", "convert"]
    assert document["paths"]["/v1/images/{id}/thumbnail"]["get"]["parameters"][1]["name"] == "size"
