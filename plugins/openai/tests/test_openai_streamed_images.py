"""Decoding ImagesResponses while they arrive (url answers): the result must be exactly what the
full read gives, wherever the chunks split the body, and fail the same way on bad data."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pybase64
import pytest

from imagegate import ImageRequest
from imagegate._errors import UpstreamError
from imagegate.testing.mock_http import mock_upstream
from imagegate_openai import images_api, transport
from imagegate_openai.inline_images import RawBase64
from imagegate_openai.results import images_from_data
from imagegate_openai.streamed_images import DecodedBase64, ImagesReader
from imagegate_openai.testing import FakeOpenAI, image_bytes
from imagegate_openai.transport import read_json

from .support import API_KEY, BASE_URL

GENERATIONS = f"{BASE_URL}/images/generations"
WHAT = "gpt-image-2.6-sunburst generate"
SMALL = bytes(range(256)) * 2 + b"xy"  # 514 bytes: padded ("=="), many "/" and "+"
OTHER = bytes(reversed(range(256))) * 3  # 768 bytes: no padding


def _answer(*values: bytes, indent: bool = False, **extra: Any) -> bytes:
    body = {"created": 1, "data": [{"b64_json": v.decode(), "revised_prompt": 'say "b64_json": "x"'} for v in values],
            "output_format": "png", "usage": {"input_tokens": 3, "output_tokens": 272}, **extra}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 if indent else 0)


class _Content:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        for chunk in self.chunks:
            yield chunk, True


class _Response:
    """What read_json uses of an aiohttp response, answering the given chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.content = _Content(chunks)
        self.headers = {"x-request-id": "req-1"}


async def _read(chunks: list[bytes], decode: bool) -> dict[str, Any]:
    return (await read_json(_Response(chunks), WHAT, images=True, decode=decode)).payload  # type: ignore[arg-type]


async def _images(payload: dict[str, Any], *, streamed: bool = True) -> list[bytes] | str:
    """The decoded images, or the message of the error reading them gives; read while streaming,
    none keeps the upstream's base64."""
    async def download(url: str) -> bytes:
        return b"downloaded " + url.encode()

    try:
        images = await images_from_data(payload, what=WHAT, mime_type="image/png", download=download)
    except UpstreamError as exc:
        return exc.message
    assert not streamed or all(image.b64 is None for image in images)
    return [bytes(image.data) for image in images]


def _rest(payload: dict[str, Any]) -> dict[str, Any]:
    """The answer without its image values."""
    rest = orjson.loads(orjson.dumps({k: v for k, v in payload.items() if k != "data"}))
    rest["data"] = [{k: v for k, v in item.items() if k != "b64_json"} if isinstance(item, dict) else item
                    for item in payload.get("data", [])]
    return rest


async def _same_as_full_read(body: bytes, splits: list[list[bytes]]) -> dict[str, Any]:
    """Read ``body`` whole and as each list of chunks; all must give the same answer and images."""
    full = await _read([body], decode=False)
    expected = (_rest(full), await _images(full, streamed=False))
    payload = full
    for chunks in splits:
        assert b"".join(chunks) == body
        payload = await _read(chunks, decode=True)
        assert (_rest(payload), await _images(payload)) == expected, [len(c) for c in chunks]
    return payload


def _every_split(body: bytes) -> list[list[bytes]]:
    """Two chunks split at every position, and runs of equal chunks of 1 to 9 bytes."""
    splits = [[body[:at], body[at:]] for at in range(1, len(body))]
    splits += [[body[at:at + size] for at in range(0, len(body), size)] for size in range(1, 10)]
    return splits


@pytest.mark.parametrize("indent", [False, True], ids=["compact", "pretty"])
async def test_every_split_gives_what_the_full_read_gives(indent: bool) -> None:
    """Splits inside the key, between colon and quote, right after the opening quote, inside every
    4-character group, right before and after the closing quote: all covered by splitting everywhere."""
    body = _answer(pybase64.b64encode(SMALL), pybase64.b64encode(OTHER), indent=indent)
    payload = await _same_as_full_read(body, _every_split(body))
    assert [type(item["b64_json"]) for item in payload["data"]] == [DecodedBase64, DecodedBase64]
    assert await _images(payload) == [SMALL, OTHER]
    assert payload["usage"] == {"input_tokens": 3, "output_tokens": 272} and payload["output_format"] == "png"
    assert payload["data"][0]["revised_prompt"] == 'say "b64_json": "x"'


async def test_a_big_image_in_network_sized_chunks() -> None:
    noise = random.Random(5).randbytes(300_001)
    body = _answer(pybase64.b64encode(noise), pybase64.b64encode(OTHER), background="opaque")
    splits = [[body[at:at + size] for at in range(0, len(body), size)] for size in (1000, 4093, 65536, 2**20)]
    payload = await _same_as_full_read(body, splits)
    assert await _images(payload) == [noise, OTHER] and payload["background"] == "opaque"


async def test_escaped_slashes_decode_as_before() -> None:
    encoded = pybase64.b64encode(SMALL)
    assert encoded.count(b"/") >= 10
    body = b'{"data": [{"b64_json": "' + encoded.replace(b"/", b"\\/") + b'"}]}'
    payload = await _same_as_full_read(body, _every_split(body))
    assert isinstance(payload["data"][0]["b64_json"], RawBase64)  # kept as sent, decoded by decode_b64
    assert await _images(payload) == [SMALL]


@pytest.mark.parametrize("broken", [
    pytest.param(lambda b: b[:300] + b"!!!!" + b[304:], id="not-the-alphabet"),
    pytest.param(lambda b: b[:300] + b"QQ==" + b[304:], id="padding-inside"),
    pytest.param(lambda b: b + b"QQ==", id="data-after-padding"),
    pytest.param(lambda b: b[:-1], id="length-not-a-multiple-of-4"),
    pytest.param(lambda b: b[:300] + b" " + b[300:], id="a-space"),
])
async def test_invalid_base64_fails_as_before(broken: Any) -> None:
    body = _answer(broken(pybase64.b64encode(SMALL)))
    payload = await _same_as_full_read(body, _every_split(body)[::7])
    message = await _images(payload)
    assert isinstance(message, str) and "base64 that does not decode" in message
    assert "QUJD" not in message and pybase64.b64encode(SMALL)[:8].decode() not in message


async def test_non_canonical_padding_decodes_as_before() -> None:
    encoded = pybase64.b64encode(OTHER + b"A")  # ends "QQ=="; "QR==" decodes to the same byte
    assert encoded.endswith(b"QQ==")
    body = _answer(encoded[:-4] + b"QR==")
    payload = await _same_as_full_read(body, _every_split(body)[::5])
    assert await _images(payload) == [OTHER + b"A"]


@pytest.mark.parametrize("body", [
    pytest.param(b'{"data": [{"b64_json": "' + pybase64.b64encode(SMALL), id="unterminated"),
    pytest.param(b'{"data": [{"b64_json": "' + pybase64.b64encode(SMALL) + b'"}', id="truncated-json"),
    pytest.param(b'{"data": [{"b64_json": "' + pybase64.b64encode(SMALL) + b'"}], "x": nope}', id="bad-rest"),
])
async def test_broken_json_is_the_same_clear_upstream_error(body: bytes) -> None:
    reader = ImagesReader()
    for at in range(0, len(body), 100):
        reader.feed(body[at:at + 100])
    assert reader.payload() is None and reader.body() == body
    for decode in (False, True):
        with pytest.raises(UpstreamError) as caught:
            await _read([body[:350], body[350:]], decode=decode)
        assert caught.value.message == f"OpenAI answered {WHAT} with malformed JSON ({len(body)} bytes)"
        assert caught.value.retryable is False


@pytest.mark.parametrize("body", [
    pytest.param(b'{"data": [{"revised_prompt": "no image"}]}', id="missing"),
    pytest.param(b'{"data": [{"b64_json": ""}]}', id="empty"),
    pytest.param(b'{"data": [{"b64_json": "QUJD"}]}', id="short"),
    pytest.param(b'{"data": [{"url": "https://x/y.png"}]}', id="url"),
])
async def test_missing_short_or_url_values_go_the_usual_way(body: bytes) -> None:
    await _same_as_full_read(body, _every_split(body))


async def test_a_key_that_only_looks_like_b64_json_is_read_in_full() -> None:
    """``"x\\"b64_json": "..."`` is a key ending in b64_json: the placeholder lands elsewhere."""
    body = b'{"x\\"b64_json": "' + pybase64.b64encode(SMALL) + b'", "data": [{"url": "u"}]}'
    payload = await _same_as_full_read(body, _every_split(body)[::3])
    assert payload["x\"b64_json"] == pybase64.b64encode(SMALL).decode()
    assert await _images(payload) == [b"downloaded u"]


@pytest.mark.parametrize("keep", [True, False])
async def test_only_answers_in_base64_keep_the_upstream_text(make_gateway: Any, monkeypatch: pytest.MonkeyPatch,
                                                             keep: bool) -> None:
    png = image_bytes(256, 256, seed=6)
    seen: list[Any] = []
    run_images = images_api.run_images

    async def recording(call: Any, settings: Any) -> Any:
        result = await run_images(call, settings)
        seen.extend(result.images)
        return result

    monkeypatch.setattr(images_api, "run_images", recording)
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, body=_answer(pybase64.b64encode(png)), content_type="application/json")
        result = await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst"), keep_base64=keep)
    assert [bytes(image.data) for image in seen] == [png]
    assert (seen[0].b64 is not None) is keep
    assert Path(result.images[0].path).read_bytes() == png
    assert result.usage is not None and result.revised_prompt == 'say "b64_json": "x"'


async def test_through_the_gateway_against_a_real_server(make_gateway: Any, request_schemas: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[Any] = []

    class Recording(ImagesReader):
        def payload(self) -> dict[str, Any] | None:
            payload = super().payload()
            decoded.extend(item["b64_json"] for item in (payload or {}).get("data", []))
            return payload

    monkeypatch.setattr(transport, "ImagesReader", Recording)
    async with FakeOpenAI(request_schemas=request_schemas, api_key=API_KEY) as server:
        gateway = await make_gateway(server.base_url)
        result = await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-sunburst", n=2))
    assert [type(value) for value in decoded] == [DecodedBase64, DecodedBase64]
    stored = [Path(image.path).read_bytes() for image in result.images]
    assert stored == [value.data for value in decoded]
    assert [image.sha256 for image in result.images] == [hashlib.sha256(data).hexdigest() for data in stored]
    assert all(image.b64 is None for image in result.images)
