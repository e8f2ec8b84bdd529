"""Signed ``/files`` URLs: they work until they expire, cannot be forged, and never leave storage."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from yarl import URL


async def _stored(served) -> tuple[str, str]:
    answer = await served.client().images.generate(prompt="signed", size="64x64", response_format="url")
    url = answer.data[0].url
    return answer.model_extra["imagegate"]["images"][0]["id"], url


async def _get(url: str | URL) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.read(), response.content_type


async def test_valid_signature_serves_the_image(served) -> None:
    _, url = await _stored(served)
    status, body, content_type = await _get(url)
    assert status == 200 and content_type == "image/png" and body.startswith(b"\x89PNG")


async def test_expired_url_is_403(served) -> None:
    image_id, _ = await _stored(served)
    signer = served.gateway.storage.signer()
    expired = signer.url(image_id, 60, now=time.time() - 3600)
    status, body, _ = await _get(expired)
    assert status == 403 and b"expired" in body and b"\x89PNG" not in body


@pytest.mark.parametrize("tamper", ["sig", "exp", "id", "missing"])
async def test_tampered_urls_are_refused(served, tamper: str) -> None:
    image_id, url = await _stored(served)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    if tamper == "sig":
        query["sig"] = ("0" if query["sig"][0] != "0" else "1") + query["sig"][1:]
    elif tamper == "exp":
        query["exp"] = str(int(query["exp"]) + 86400)
    elif tamper == "id":
        other = (await _stored(served))[0]
        path = path.replace(image_id, other)
    else:
        del query["sig"]
    status, body, content_type = await _get(URL(served.base_url + path).with_query(query))
    assert status == 403
    assert content_type == "application/json" and b"\x89PNG" not in body


@pytest.mark.parametrize("raw", [
    "/files/../../../../etc/passwd",
    "/files/..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/%2e%2e",
    "/files/..%5c..%5cwindows",
    "/files/img_20260101_aaaaaaaaaaaaaaaaaaaaaaaaaa%2f..%2f..%2f.url-signing-key",
    "/files/.url-signing-key",
    "/files/%252e%252e%252fetc",
])
async def test_traversal_attempts_never_read_outside_storage(served, raw: str) -> None:
    _, url = await _stored(served)
    query = urlsplit(url).query
    status, body, content_type = await _get(URL(served.base_url + raw + "?" + query, encoded=True))
    assert status in (403, 404)
    assert content_type == "application/json"
    assert b"root:" not in body and b"\x89PNG" not in body
    assert b"error" in body


async def test_without_a_public_url_files_are_not_served(serve) -> None:
    served = await serve(public_url=False)
    answer = await served.client().images.generate(prompt="x", size="64x64", response_format="url")
    assert answer.data[0].url.startswith("file://")
    image_id = answer.model_extra["imagegate"]["images"][0]["id"]
    status, _, _ = await _get(f"{served.base_url}/files/{image_id}?exp=9999999999&sig=00")
    assert status == 404


async def test_every_route_serving_image_bytes_sandboxes_svg(served) -> None:
    answer = await served.client().images.generate(prompt="an svg", size="64x64", response_format="url",
                                                   extra_body={"output_format": "svg"})
    image_id, signed_url = answer.model_extra["imagegate"]["images"][0]["id"], answer.data[0].url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{served.base_url}/v1/images/{image_id}", params={"content": "1"}) as response:
            by_id = response.headers
            assert response.status == 200 and b"<svg" in await response.read()
        async with http.get(signed_url) as response:
            by_file = response.headers
            assert response.status == 200 and b"<svg" in await response.read()
    for headers in (by_id, by_file):
        assert headers["Content-Type"] == "image/svg+xml"
        assert "sandbox" in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"] == f'inline; filename="{image_id}.svg"'
    same = ("Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "Content-Disposition")
    assert {name: by_id[name] for name in same} == {name: by_file[name] for name in same}
