"""ImagesResponse bodies sent in pieces: the same JSON as one document, and ``b64_json`` equal to
base64 of the stored bytes whether the provider's own base64 is passed through or encoded here."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import orjson
import pybase64

from imagegate.testing import image_bytes
from imagegate import hookimpl
from imagegate._catalog import ModelSpec, PriceRule, Pricing, SizeSpec
from imagegate._models import Cost, ImageOut, ImageResult
from imagegate._provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult
from imagegate_http.answers import images_answer

PNGS = [image_bytes(64, 64, seed=1), image_bytes(64, 64, seed=2)]


def _result(images: list[ImageOut]) -> ImageResult:
    return ImageResult(images=images, model="m", provider="p", request_id="req_1", cost=Cost(0.01, None),
                       parameters={"quality": "high"})


def _out(index: int, data: bytes, b64: Any = None, revised: str | None = None) -> ImageOut:
    return ImageOut(id=f"img_20261122_{'a' * 25}{index}", mime_type="image/png", bytes=len(data), sha256="0" * 64,
                    width=64, height=64, path="/x", url=f"http://gw/files/{index}", revised_prompt=revised,
                    data=data, b64=b64)


def test_pieces_join_to_the_images_response() -> None:
    kept = memoryview(bytearray(b'{"b64_json":"' + pybase64.b64encode(PNGS[0]) + b'"}'))[13:-2]
    result = _result([_out(0, PNGS[0], b64=kept, revised='he said "\x00hi"'), _out(1, PNGS[1])])
    pieces = images_answer(result, "b64_json")
    answer = orjson.loads(b"".join(pieces))
    assert [base64.b64decode(item["b64_json"]) for item in answer["data"]] == PNGS
    assert answer["data"][0]["revised_prompt"] == 'he said "\x00hi"' and "revised_prompt" not in answer["data"][1]
    assert answer["output_format"] == "png" and answer["size"] == "64x64" and answer["quality"] == "high"
    assert answer["imagegate"]["request_id"] == "req_1"
    assert all(image["path"] is None for image in answer["imagegate"]["images"])
    assert any(piece is kept for piece in pieces)  # the provider's base64 is sent as it is


def test_url_answers_are_one_piece_without_base64() -> None:
    pieces = images_answer(_result([_out(0, PNGS[0], b64=b"unused")]), "url")
    assert len(pieces) == 1
    assert orjson.loads(pieces[0])["data"] == [{"url": "http://gw/files/0"}]


class Base64Provider(BaseProvider):
    """Answers two images with their canonical base64 held in one buffer, as an upstream sends it."""

    name = "test-b64"

    async def run(self, call: ProviderCall) -> ProviderResult:
        body = bytearray(b"|".join(pybase64.b64encode(png) for png in PNGS))
        view = memoryview(body)
        first = len(pybase64.b64encode(PNGS[0]))
        slices = [view[:first], view[first + 1:]]
        return ProviderResult(images=[ProviderImage(data=png, mime_type="image/png", b64=text)
                                      for png, text in zip(PNGS, slices, strict=True)])


class Base64Plugin:
    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(Base64Provider())
        register.add_model(ModelSpec(id="test-b64", provider="test-b64", upstream="b64", operations=["generate"],
                                     sizes=SizeSpec(values=["64x64"]), default_size="64x64", n_max=2,
                                     pricing=Pricing(per_image=[PriceRule(usd=0.0)])))


async def test_passed_through_base64_equals_the_stored_bytes(serve: Any) -> None:
    served = await serve(plugins=[(Base64Plugin(), "test-b64")])
    url = f"{served.base_url}/v1/images/generations"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"model": "test-b64", "prompt": "x", "n": 2}) as response:
            assert response.status == 200 and response.content_type == "application/json"
            raw = await response.read()
            assert response.content_length == len(raw)
        answer = orjson.loads(raw)
        for item, image in zip(answer["data"], answer["imagegate"]["images"], strict=True):
            async with session.get(f"{served.base_url}/v1/images/{image['id']}?content=1") as stored:
                assert item["b64_json"] == pybase64.b64encode(await stored.read()).decode()
        assert [base64.b64decode(item["b64_json"]) for item in answer["data"]] == PNGS
        async with session.post(url, json={"model": "test-b64", "prompt": "x", "response_format": "url"}) as response:
            linked = await response.json()
        async with session.get(linked["data"][0]["url"]) as image:
            assert await image.read() == PNGS[0]
