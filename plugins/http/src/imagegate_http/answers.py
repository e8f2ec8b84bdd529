"""ImageResult -> OpenAI's ``ImagesResponse`` (plus an ``imagegate`` field with ids and cost).

``b64_json`` is the provider's own base64 when it sent canonical base64 (``ImageOut.b64``), else
the bytes the gateway already holds, encoded once (no read-back from storage); ``url`` is the
stored image's URL (a signed gateway URL for local storage, presigned for S3). For a grid request
``data`` holds the tiles in cell order and an extra ``grid`` object the whole image.

:func:`images_answer` gives the JSON in pieces: orjson writes everything but the base64, which is
sent as it is, never copied into one big string nor scanned by a JSON encoder.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

import orjson
import pybase64

from imagegate.files import MIME_FORMAT

if TYPE_CHECKING:
    from imagegate import ImageOut, ImageResult

    from .translate import ResponseFormat

__all__ = ["b64", "b64_bytes", "images_answer", "lifecycle_headers", "openai_usage"]



_MARK = f"\x00imagegate-b64-{secrets.token_hex(8)}-"


def b64_bytes(image: ImageOut) -> bytes | bytearray | memoryview:
    """The image's base64: the provider's own when kept, else ``data`` encoded."""
    if image.b64 is not None:
        return image.b64
    return pybase64.b64encode(image.data if image.data is not None else b"")


def b64(image: ImageOut) -> str:
    return str(b64_bytes(image), "ascii")


def _item(image: ImageOut, response_format: ResponseFormat, index: int) -> dict[str, Any]:
    item: dict[str, Any] = {"b64_json": f"{_MARK}{index}"} if response_format == "b64_json" else {"url": image.url}
    if image.revised_prompt:
        item["revised_prompt"] = image.revised_prompt
    return item


def openai_usage(usage: dict[str, int] | None) -> dict[str, Any] | None:
    """The gateway's token counts in OpenAI's usage shape, when the provider reported any."""
    if not usage:
        return None
    text_in = usage.get("input_text_tokens", 0)
    image_in = usage.get("input_image_tokens", 0)
    text_out = usage.get("output_text_tokens", 0)
    image_out = usage.get("output_image_tokens", 0)
    return {
        "input_tokens": text_in + image_in,
        "input_tokens_details": {"text_tokens": text_in, "image_tokens": image_in},
        "output_tokens": text_out + image_out,
        "output_tokens_details": {"text_tokens": text_out, "image_tokens": image_out},
        "total_tokens": text_in + image_in + text_out + image_out,
    }


def _response(result: ImageResult, response_format: ResponseFormat, created: int | None) -> dict[str, Any]:
    """The ImagesResponse with a placeholder for each ``b64_json`` value."""
    tiles = [image for image in result.images if result.grid is None or image.id != result.grid["id"]]
    out: dict[str, Any] = {
        "created": int(time.time()) if created is None else created,
        "data": [_item(image, response_format, index) for index, image in enumerate(tiles)],
    }
    if result.grid is not None:  # the grid image is last in result.images: its base64 mark comes last
        grid = result.images[-1]
        out["grid"] = {**result.grid, **_item(grid, response_format, len(result.images) - 1)}
    if result.images:
        out["output_format"] = MIME_FORMAT.get(result.images[0].mime_type)
        first = result.images[0]
        if first.width and first.height:
            out["size"] = f"{first.width}x{first.height}"
    for name in ("quality", "background"):
        if result.parameters.get(name) is not None:
            out[name] = result.parameters[name]
    usage = openai_usage(result.usage)
    if usage is not None:
        out["usage"] = usage
    out["imagegate"] = result.contract(with_paths=False)
    return out


def lifecycle_headers(result: ImageResult) -> dict[str, str]:
    """For a deprecated model: ``Deprecation`` (RFC 9745: it is deprecated as of this answer) and,
    when its shutdown date is known, ``Sunset`` (RFC 8594: midnight UTC of that date)."""
    if result.deprecation is None:
        return {}
    headers = {"Deprecation": f"@{int(time.time())}"}
    if result.deprecation.get("shutdown_date"):
        from datetime import UTC, datetime
        from email.utils import format_datetime

        day = datetime.fromisoformat(result.deprecation["shutdown_date"]).replace(tzinfo=UTC)
        headers["Sunset"] = format_datetime(day, usegmt=True)
    return headers


def images_answer(result: ImageResult, response_format: ResponseFormat,
                  created: int | None = None) -> list[bytes | bytearray | memoryview]:
    """The ImagesResponse as JSON in pieces, to be sent in order (``created``: now, unless given)."""
    text = orjson.dumps(_response(result, response_format, created))
    if response_format != "b64_json":
        return [text]
    view = memoryview(text)
    pieces: list[bytes | bytearray | memoryview] = []
    pos = 0
    for index, image in enumerate(result.images):
        mark = orjson.dumps(f"{_MARK}{index}")[1:-1]
        at = text.index(mark, pos)
        pieces += (view[pos:at], b64_bytes(image))
        pos = at + len(mark)
    pieces.append(view[pos:])
    return pieces

