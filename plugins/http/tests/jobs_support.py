"""Helpers of the HTTP jobs and webhook tests: the fakes' credentials, and a POST or GET answered
with its status (and headers) and JSON."""

from __future__ import annotations

from typing import Any

import aiohttp

__all__ = ["ASYNC", "OPENAI_KEY", "REPLICATE_TOKEN", "form_of", "get_json", "post_json"]

OPENAI_KEY = "sk-test-jobs"
REPLICATE_TOKEN = "r8_test_jobs"
ASYNC = {"Prefer": "respond-async"}


def form_of(fields: dict[str, str], image: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("image", image, filename="in.png", content_type="image/png")
    return form


async def post_json(http: aiohttp.ClientSession, operation: str, body: dict[str, Any], headers: dict[str, str],
                image: bytes | None = None) -> tuple[int, dict[str, Any], Any]:
    """POST a generation (JSON) or an edit/variation (multipart); status, headers and JSON answer."""
    path = f"/v1/images/{operation}"
    kwargs: dict[str, Any] = {"json": body} if image is None else {"data": form_of(body, image)}
    async with http.post(path, headers=headers, **kwargs) as response:
        return response.status, dict(response.headers), await response.json()


async def get_json(http: aiohttp.ClientSession, path: str, headers: dict[str, str] | None = None,
               **query: str) -> tuple[int, Any]:
    async with http.get(path, params=query, headers=headers) as response:
        return response.status, await response.json()
