"""Reading ImagesResponses without JSON-parsing their base64: the fast path must answer exactly what
a full parse answers, fall back when unsure, and fail the same way on bad data."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pybase64
import pytest

from imagegate import ImageRequest
from imagegate._errors import UpstreamError
from imagegate.testing.mock_http import mock_upstream
from imagegate_openai.inline_images import RawBase64, cut_images
from imagegate_openai.results import decode_b64, image_from_b64, is_canonical
from imagegate_openai.testing import image_bytes

from .support import BASE_URL

GENERATIONS = f"{BASE_URL}/images/generations"
PNG = image_bytes(256, 256, seed=3)
JPEG = image_bytes(256, 256, "jpeg", seed=4)
B64 = pybase64.b64encode(PNG)


def _answer(*values: bytes, revised: str | None = None, indent: bool = False) -> bytes:
    items = [{"b64_json": value.decode(), **({"revised_prompt": revised} if revised else {})} for value in values]
    body = {"created": 1, "data": items, "output_format": "png", "usage": {"input_tokens": 3}}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 if indent else 0)


@pytest.mark.parametrize("indent", [False, True], ids=["compact", "pretty"])
def test_cut_images_matches_a_full_parse(indent: bool) -> None:
    other = pybase64.b64encode(JPEG)
    body = bytearray(_answer(B64, other, revised='say "b64_json": "x"', indent=indent))
    payload = cut_images(body)
    assert payload is not None
    full = orjson.loads(body)
    cut = [item.pop("b64_json") for item in payload["data"]]
    assert all(isinstance(value, RawBase64) for value in cut)
    assert [bytes(value.data) for value in cut] == [B64, other]
    assert payload["data"] == [{"revised_prompt": 'say "b64_json": "x"'}] * 2
    assert {k: v for k, v in payload.items() if k != "data"} == {k: v for k, v in full.items() if k != "data"}


def test_short_values_and_no_images_are_left_to_the_parser() -> None:
    assert cut_images(_answer(b"QUJD")) is None
    assert cut_images(b'{"data": [{"url": "https://x/y.png"}]}') is None


def test_a_key_that_only_looks_like_b64_json_falls_back() -> None:
    """``"x\\"b64_json": "..."`` is a key ending in b64_json, not data[i].b64_json."""
    body = b'{"x\\"b64_json": "' + B64 + b'", "data": [{"url": "u"}]}'
    assert orjson.loads(body)["data"] == [{"url": "u"}]
    assert cut_images(body) is None


def test_a_cut_that_breaks_the_json_falls_back() -> None:
    body = b'{"data": [{"b64_json": "' + B64[:400] + b'\\"' + B64[400:] + b'"}]}'
    assert cut_images(body) is None


def test_escaped_slashes_decode_and_are_not_passed_through() -> None:
    data = bytes(range(256)) * 4  # its base64 has many slashes
    encoded = pybase64.b64encode(data)
    assert b"/" in encoded
    body = b'{"data": [{"b64_json": "' + encoded.replace(b"/", b"\\/") + b'"}]}'
    payload = cut_images(body)
    assert payload is not None
    value = payload["data"][0]["b64_json"]
    image = image_from_b64(value, "test", mime_type="image/png")
    assert image.data == data
    assert image.b64 is None  # the escaped text is not what base64(data) is


def test_canonical_base64_is_kept_and_non_canonical_is_not() -> None:
    image = image_from_b64(RawBase64(memoryview(B64)), "test", mime_type="image/png")
    assert image.data == PNG and bytes(image.b64) == B64
    sloppy = b"QR=="  # decodes to b"A", like the canonical QQ==
    assert pybase64.b64decode(sloppy, validate=True) == b"A"
    assert not is_canonical(sloppy, b"A") and is_canonical(b"QQ==", b"A")
    assert image_from_b64(RawBase64(sloppy), "test", mime_type=None).b64 is None
    assert image_from_b64(B64.decode(), "test", mime_type=None).b64 is None  # parsed text: re-encoded


@pytest.mark.parametrize("bad", [RawBase64(b"not base64 at all!"), RawBase64(b""), "", None, 7])
def test_bad_or_missing_base64_is_a_clear_upstream_error(bad: Any) -> None:
    with pytest.raises(UpstreamError) as caught:
        decode_b64(bad, "gpt-image-2.6-sunburst generate (image 1)")
    assert caught.value.retryable is False
    assert "gpt-image-2.6-sunburst generate (image 1)" in caught.value.message
    assert "not base64" not in caught.value.message  # no image data in errors


async def test_malformed_base64_in_a_big_answer_fails_without_retry(make_gateway: Any) -> None:
    gateway = await make_gateway()
    broken = B64[:500] + b"!!!!" + B64[504:]
    with mock_upstream() as mock:
        mock.post(GENERATIONS, body=_answer(broken), content_type="application/json")
        with pytest.raises(UpstreamError, match="base64 that does not decode") as caught:
            await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst"))
    assert caught.value.code == "upstream_error"


async def test_answer_without_data_is_an_upstream_error(make_gateway: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, body=b'{"created": 1, "data": []}', content_type="application/json")
        with pytest.raises(UpstreamError, match="without any image"):
            await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst"))


async def test_base64_of_another_format_still_fails_verification(make_gateway: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:  # asked for png (the default), the bytes are a JPEG
        mock.post(GENERATIONS, body=_answer(pybase64.b64encode(JPEG)), content_type="application/json")
        with pytest.raises(UpstreamError, match="declared image/png but the bytes are image/jpeg"):
            await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst"))


@pytest.mark.parametrize("keep", [True, False])
async def test_passed_through_base64_is_that_of_the_stored_bytes(make_gateway: Any, keep: bool) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, body=_answer(B64, revised="a fox"), content_type="application/json")
        result = await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst"), keep_base64=keep)
    image = result.images[0]
    stored = Path(image.path).read_bytes()
    assert stored == PNG and image.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (await gateway.metadata(image.id))["sha256"] == image.sha256
    if keep:
        assert bytes(image.b64) == pybase64.b64encode(stored)
    else:
        assert image.b64 is None
    assert result.revised_prompt == "a fox"
