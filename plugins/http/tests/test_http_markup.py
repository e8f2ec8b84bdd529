"""Markup edits over HTTP: the official SDK's ``markup`` file part reaches the provider; a mask
with it is refused before any call, naming ``markup``; the OpenAPI document describes the field."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from imagegate.testing import ScriptedPlugin, ScriptedProvider, image_bytes, scripted_model


@pytest.fixture
async def marked(serve: Any) -> tuple[Any, ScriptedProvider]:
    plugin = ScriptedPlugin(ScriptedProvider("marker"), scripted_model("marker-1", provider="marker", markup=True))
    served = await serve(plugins=[(plugin, "marker")])
    return served, plugin.provider


async def test_markup_reaches_the_provider(marked: tuple[Any, ScriptedProvider]) -> None:
    served, provider = marked
    markup = image_bytes(64, 64, transparent=True)
    answer = await served.client().images.edit(
        model="marker-1", prompt="follow the arrows", image=("a.png", image_bytes(64, 64), "image/png"),
        markup=("markup.png", markup, "image/png"), size="64x64")
    assert len(answer.data) == 1
    [call] = provider.calls
    assert call.markup is not None and call.markup.data == markup and call.markup.mime_type == "image/png"
    assert call.mask is None and len(call.images) == 1


async def test_markup_with_a_mask_is_refused(marked: tuple[Any, ScriptedProvider]) -> None:
    served, provider = marked
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(
            model="marker-1", prompt="x", image=("a.png", image_bytes(64, 64), "image/png"),
            mask=("mask.png", image_bytes(64, 64, transparent=True), "image/png"),
            markup=("markup.png", image_bytes(64, 64, transparent=True), "image/png"))
    error = caught.value.body
    assert (error["code"], error["param"], error["type"]) == ("invalid_request", "markup", "invalid_request_error")
    assert "mask" in error["message"] and error["retryable"] is False
    assert provider.calls == []


async def test_two_markups_are_refused(marked: tuple[Any, ScriptedProvider]) -> None:
    import aiohttp

    served, provider = marked
    form = aiohttp.FormData()
    form.add_field("model", "marker-1")
    form.add_field("prompt", "x")
    form.add_field("image", image_bytes(), filename="a.png", content_type="image/png")
    for _ in range(2):
        form.add_field("markup", image_bytes(64, 64, transparent=True), filename="markup.png", content_type="image/png")
    async with aiohttp.ClientSession() as session, \
            session.post(served.base_url + "/v1/images/edits", data=form) as response:
        error = (await response.json())["error"]
    assert response.status == 400 and error["param"] == "markup" and "one markup" in error["message"]
    assert provider.calls == []


async def test_markup_for_a_model_without_it_names_markup(served: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(model="placeholder", prompt="x", image=("a.png", image_bytes(), "image/png"),
                                          markup=("markup.png", image_bytes(64, 64, transparent=True), "image/png"))
    assert caught.value.body["param"] == "markup" and "placeholder" in caught.value.body["message"]


async def test_openapi_documents_the_markup_field(served: Any) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(served.base_url + "/openapi.json") as response:
        document = await response.json()
    schema = document["components"]["schemas"]["CreateImageEditRequest"]
    assert schema["properties"]["markup"]["format"] == "binary"
    assert "not with mask" in schema["properties"]["markup"]["description"]
