"""The official ``openai`` SDK, unchanged but for ``base_url``, against the real server."""

from __future__ import annotations

import base64

import aiohttp
import openai
import pytest

from imagegate.testing import image_bytes
from imagegate_http.testing import image_size


async def test_generate_b64_json_is_a_png_of_the_requested_size(served) -> None:
    client = served.client()
    answer = await client.images.generate(model="placeholder", prompt="a red lighthouse", size="96x64", n=2)
    assert len(answer.data) == 2
    for item in answer.data:
        data = base64.b64decode(item.b64_json)
        assert data.startswith(b"\x89PNG")
        assert image_size(data) == (96, 64)
    assert answer.data[0].b64_json != answer.data[1].b64_json
    extra = answer.model_extra["imagegate"]
    assert extra["model"] == "placeholder" and len(extra["images"]) == 2
    assert all(image["id"].startswith("img_") for image in extra["images"])


async def test_generate_url_downloads_the_same_bytes(served) -> None:
    client = served.client()
    as_b64 = await client.images.generate(model="placeholder", prompt="same", size="64x64",
                                          extra_body={"seed": 7})
    as_url = await client.images.generate(model="placeholder", prompt="same", size="64x64",
                                          response_format="url", extra_body={"seed": 7})
    url = as_url.data[0].url
    assert url.startswith(served.base_url + "/files/img_") and "sig=" in url
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert await response.read() == base64.b64decode(as_b64.data[0].b64_json)


async def test_edit_with_mask_and_several_images(served) -> None:
    client = served.client()
    answer = await client.images.edit(
        model="placeholder", prompt="add a moon",
        image=[("a.png", image_bytes(96, 64), "image/png"), ("b.png", image_bytes(96, 64, seed=2), "image/png")],
        mask=("mask.png", image_bytes(96, 64, transparent=True), "image/png"), n=2, size="96x64")
    assert len(answer.data) == 2
    assert image_size(base64.b64decode(answer.data[0].b64_json)) == (96, 64)


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
async def test_variation(served) -> None:
    client = served.client()
    answer = await client.images.create_variation(
        model="placeholder", image=("in.png", image_bytes(64, 64), "image/png"), n=1, size="64x64",
        response_format="url")
    assert answer.data[0].url.startswith(served.base_url + "/files/")


async def test_bad_size_is_a_bad_request_naming_the_param(served) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.generate(model="placeholder", prompt="x", size="5x5")
    error = caught.value.body
    assert caught.value.status_code == 400
    assert error["param"] == "size" and error["code"] == "invalid_request"
    assert error["type"] == "invalid_request_error" and error["retryable"] is False
    assert "allowed" in error["message"]


async def test_unknown_model_is_not_found(served) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await served.client().images.generate(model="no-such-model", prompt="x")
    assert caught.value.body["type"] == "not_found_error"


async def test_unknown_parameter_names_the_allowed_ones(served) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.generate(model="placeholder", prompt="x", quality="high")
    assert caught.value.body["param"] == "quality"
    assert "output_format" in caught.value.body["message"]


async def test_models_list_has_openai_shape_and_capabilities(served) -> None:
    client = served.client()
    page = await client.models.list()
    ids = {model.id for model in page.data}
    assert {"placeholder", "test-streamer"} <= ids
    placeholder = next(model for model in page.data if model.id == "placeholder")
    assert placeholder.object == "model" and placeholder.owned_by == "placeholder"
    assert placeholder.model_extra["operations"] == ["generate", "edit", "variation"]
    assert (await client.models.retrieve("placeholder")).id == "placeholder"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("nope")


async def test_stored_images_get_list_content_delete(served) -> None:
    client = served.client()
    answer = await client.images.generate(model="placeholder", prompt="keep me", size="64x64")
    image_id = answer.model_extra["imagegate"]["images"][0]["id"]
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.get(f"/v1/images/{image_id}") as response:
            meta = await response.json()
            assert response.status == 200
            assert meta["id"] == image_id and meta["url"].startswith(served.base_url + "/files/")
        async with http.get(f"/v1/images/{image_id}", params={"content": "1"}) as response:
            assert response.content_type == "image/png"
            assert await response.read() == base64.b64decode(answer.data[0].b64_json)
        async with http.get("/v1/images", params={"limit": "5"}) as response:
            listing = await response.json()
            assert listing["object"] == "list" and image_id in [item["id"] for item in listing["data"]]
        async with http.delete(f"/v1/images/{image_id}") as response:
            assert (await response.json())["deleted"] is True
        async with http.get(f"/v1/images/{image_id}") as response:
            assert response.status == 404
            assert (await response.json())["error"]["type"] == "not_found_error"


async def test_size_maps_to_nearest_aspect_ratio(served) -> None:
    answer = await served.client().images.generate(model="test-streamer", prompt="wide", size="1536x1024")
    data = base64.b64decode(answer.data[0].b64_json)
    assert image_size(data) == (192, 128)  # 3:2 at 64 px per unit
    assert answer.data[0].revised_prompt == "revised: wide"


async def test_stream_sends_partial_then_completed_events(served) -> None:
    stream = await served.client().images.generate(model="test-streamer", prompt="streamed", stream=True,
                                                   size="1024x1024")
    events = [event async for event in stream]
    types = [event.type for event in events]
    assert types == ["image_generation.partial_image", "image_generation.partial_image",
                     "image_generation.completed"]
    assert [event.partial_image_index for event in events[:2]] == [0, 1]
    assert image_size(base64.b64decode(events[-1].b64_json)) == (64, 64)


async def test_stream_edit_uses_edit_events(served) -> None:
    stream = await served.client().images.edit(model="test-streamer", prompt="streamed edit", stream=True,
                                               image=("a.png", image_bytes(), "image/png"))
    types = [event.type async for event in stream]
    assert types[-1] == "image_edit.completed" and types[0] == "image_edit.partial_image"


async def test_stream_for_a_model_that_cannot_is_a_400(served) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.generate(model="placeholder", prompt="x", stream=True)
    assert caught.value.body["param"] == "stream"
