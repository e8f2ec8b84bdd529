"""ImageResult -> OpenAI's ``ImagesResponse`` (plus an ``imagegate`` field with ids and cost).

``b64_json`` encodes the bytes the gateway already holds (no read-back from storage); ``url`` is
the stored image's URL (a signed gateway URL for local storage, presigned for S3).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pybase64

if TYPE_CHECKING:
    from imagegate.models import ImageOut, ImageResult

    from .translate import ResponseFormat

__all__ = ["image_item", "images_response", "openai_usage"]

_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp", "image/gif": "gif",
            "image/svg+xml": "svg"}


def b64(image: ImageOut) -> str:
    data = image.data if image.data is not None else b""
    return pybase64.b64encode(bytes(data) if isinstance(data, memoryview) else data).decode("ascii")


def image_item(image: ImageOut, response_format: ResponseFormat) -> dict[str, Any]:
    item: dict[str, Any] = {"b64_json": b64(image)} if response_format == "b64_json" else {"url": image.url}
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


def images_response(result: ImageResult, response_format: ResponseFormat) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created": int(time.time()),
        "data": [image_item(image, response_format) for image in result.images],
    }
    if result.images:
        out["output_format"] = _FORMATS.get(result.images[0].mime_type)
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
