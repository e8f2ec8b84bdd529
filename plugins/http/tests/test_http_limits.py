"""Body, multipart and quoting limits: each attack and its clean refusal, and the legitimate
request next to it still served. (Memory under these attacks: test_http_memory.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from imagegate.testing import image_bytes
from imagegate_http.testing import raw_exchange

BOUNDARY = "b0undary"


def _head(path: str, content_type: str, length: int | None = None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()


async def _chunked(pieces: list[bytes], repeat: int = 1) -> AsyncIterator[bytes]:
    """``pieces`` (``repeat`` times) in chunked transfer encoding, with the last chunk."""
    for _ in range(repeat):
        for piece in pieces:
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def _field(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
END = f"--{BOUNDARY}--\r\n".encode()


async def test_declared_oversized_json_is_refused_before_any_byte_is_read(served) -> None:
    head = _head("/v1/images/generations", "application/json", 200 * 1024 * 1024)
    answer = await raw_exchange(served.base_url, head, timeout=10)  # no body is ever sent
    assert answer.status == 413
    error = answer.json()["error"]
    assert error["code"] == "invalid_request" and error["type"] == "invalid_request_error"
    assert "1 MB" in error["message"] and "GATEWAY__MAX_JSON_KB" in error["message"]


async def test_chunked_json_is_cut_at_the_limit(served) -> None:
    body = _chunked([b'{"prompt": "'] + [b"x" * 65536] * 100, repeat=100)  # 650 MB if it were all read
    answer = await raw_exchange(served.base_url, _head("/v1/images/generations", "application/json"), body)
    assert answer.status == 413 and "GATEWAY__MAX_JSON_KB" in answer.json()["error"]["message"]


async def test_declared_oversized_upload_is_refused_before_reading(serve) -> None:
    served = await serve(options={"max_body_mb": 2})
    answer = await raw_exchange(served.base_url, _head("/v1/images/edits", MULTIPART, 3 * 1024 * 1024), timeout=10)
    assert answer.status == 413
    assert "2 MB" in answer.json()["error"]["message"] and "GATEWAY__MAX_BODY_MB" in answer.json()["error"]["message"]


async def test_chunked_upload_over_the_body_limit_is_413(serve) -> None:
    served = await serve(options={"max_body_mb": 1, "max_image_mb": 50})
    image = image_bytes() + b"\0" * 300_000
    body = _chunked([_field("prompt", b"x")] + [_field("image[]", image, "a.png")] * 16 + [END])
    answer = await raw_exchange(served.base_url, _head("/v1/images/edits", MULTIPART), body)
    assert answer.status == 413 and "GATEWAY__MAX_BODY_MB" in answer.json()["error"]["message"]


async def test_too_many_parts_are_refused_naming_the_setting(serve) -> None:
    served = await serve(options={"max_parts": 5})
    body = _chunked([_field(f"f{i}", b"v") for i in range(10_000)] + [END])
    answer = await raw_exchange(served.base_url, _head("/v1/images/edits", MULTIPART), body)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request" and "5 parts" in error["message"]
    assert "GATEWAY__MAX_PARTS" in error["message"]


async def test_a_text_field_over_its_cap_is_413_naming_the_field(serve) -> None:
    served = await serve(options={"max_field_kb": 4})
    body = _chunked([_field("prompt", b"p" * 5000), _field("image", image_bytes(), "a.png"), END])
    answer = await raw_exchange(served.base_url, _head("/v1/images/edits", MULTIPART), body)
    assert answer.status == 413
    error = answer.json()["error"]
    assert error["param"] == "prompt" and "4 KB" in error["message"] and "GATEWAY__MAX_FIELD_KB" in error["message"]


async def test_the_longest_legitimate_prompt_passes_under_the_defaults(served) -> None:
    prompt = "\u6f22" * 32_000  # gpt-image-1's longest prompt, 3 bytes a character
    client = served.client()
    answer = await client.images.generate(model="placeholder", prompt=prompt, size="64x64")
    assert answer.data[0].b64_json
    edited = await client.images.edit(model="placeholder", prompt=prompt, image=("a.png", image_bytes(), "image/png"))
    assert edited.data[0].b64_json


LONG = "q" * 200_000  # under every size cap: the values themselves must be refused


@pytest.mark.parametrize(("path", "body", "content_type"), [
    ("/v1/images/generations", b'{"prompt": "x", "response_format": "%s"}' % LONG.encode(), "application/json"),
    ("/v1/images/generations", b'{"prompt": "x", "%s": 1}' % LONG.encode(), "application/json"),
    ("/v1/images/generations", b'{"model": "test-streamer", "prompt": "x", "size": "%s"}' % LONG.encode(),
     "application/json"),
    ("/v1/images/generations", b"{}", "text/" + "z" * 7000),
    ("/v1/images/edits", _field("n" * 7000, b"v") + _field("image", image_bytes(), "a.png") + END,
     MULTIPART),
    ("/v1/images/edits", _field("n" * 7000, b"v", "f.png") + END, MULTIPART),
    ("/v1/images/edits", _field("prompt", b"x") + _field("n", LONG.encode()) + _field("image", image_bytes(), "a.png")
     + END, MULTIPART),
    ("/v1/images/edits", _field("x" * 1_000_000, b"v") + END, MULTIPART),
])
async def test_errors_quote_only_a_short_prefix_of_names_and_values(served, path, body, content_type) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, \
            http.post(path, data=body, headers={"Content-Type": content_type}) as response:
        error = (await response.json())["error"]
        assert response.status == 400, error
        assert len(error["message"]) < 400, error["message"][:500]
        assert error["param"] is None or len(error["param"]) <= 100


async def test_query_values_are_quoted_short(served) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, http.get("/v1/images", params={"limit": "9" * 5000}) as response:
        error = (await response.json())["error"]
        assert response.status == 400 and error["param"] == "limit" and len(error["message"]) < 200


async def test_a_compressed_body_is_limited_by_its_decompressed_size(served) -> None:
    import zlib

    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip: 100 MB of JSON in about 100 KB
    data = bomb.compress(b'{"prompt": "') + b"".join(bomb.compress(b"x" * 1024 * 1024) for _ in range(100))
    data += bomb.flush()
    head = (f"POST /v1/images/generations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Encoding: gzip\r\nContent-Length: {len(data)}\r\n\r\n").encode()

    async def body() -> AsyncIterator[bytes]:
        yield data

    answer = await raw_exchange(served.base_url, head, body())
    assert len(data) < 1024 * 1024 and answer.status == 413
    assert "GATEWAY__MAX_JSON_KB" in answer.json()["error"]["message"]
