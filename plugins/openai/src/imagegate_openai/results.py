"""Turning OpenAI's answers into images and token usage.

Images come as base64 (decoded with pybase64, strictly) or, from an OpenAI-compatible server, as
URLs that expire soon and are downloaded at once through the gateway. Usage follows the
ImagesResponse shape: input tokens split into text and image tokens (input images on edits),
output tokens are image tokens unless ``output_tokens_details`` says otherwise.
"""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import pybase64

from imagegate.files import FORMAT_MIME
from imagegate import ProviderImage, UpstreamError, Usage

from .catalog import PROVIDER
from .inline_images import RawBase64
from .streamed_images import DecodedBase64

__all__ = ["decode_b64", "image_from_b64", "images_from_data", "is_canonical", "usage_from"]


def decode_b64(text: Any, what: str) -> bytes:
    """Strictly decoded base64 (a string, or a :class:`RawBase64` that may hold ``\\/``); an
    UpstreamError (not retried) naming ``what`` otherwise."""
    raw = text.data if isinstance(text, RawBase64) else text
    if not isinstance(raw, str | bytes | bytearray | memoryview) or not len(raw):
        msg = f"OpenAI answered {what} without image data"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    try:
        return pybase64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        escaped = bytes(text.data) if isinstance(text, RawBase64) else b""
        if b"\\/" in escaped:  # JSON's optional escaped slash
            return decode_b64(escaped.replace(b"\\/", b"/"), what)
        msg = f"OpenAI answered {what} with base64 that does not decode ({len(raw)} characters)"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False) from None


def is_canonical(encoded: bytes | bytearray | memoryview, decoded: bytes) -> bool:
    """Whether ``encoded`` is exactly ``base64(decoded)``, given that it strictly decodes to it.

    A strict decode already rules out other characters and wrong padding; what is left is the
    unused low bits of the last group, so only the last four characters are encoded again.
    """
    if len(encoded) != 4 * ((len(decoded) + 2) // 3):
        return False
    tail = len(decoded) % 3 or 3
    return len(decoded) == 0 or pybase64.b64encode(decoded[-tail:]) == bytes(encoded[-4:])


def image_from_b64(value: Any, what: str, *, mime_type: str | None, revised_prompt: str | None = None,
                   ) -> ProviderImage:
    """One image from base64; an unparsed :class:`RawBase64` in canonical form is kept as ``b64``."""
    if isinstance(value, DecodedBase64):
        return ProviderImage(data=value.data, mime_type=mime_type, revised_prompt=revised_prompt)
    data = decode_b64(value, what)
    keep = isinstance(value, RawBase64) and is_canonical(value.data, data)
    return ProviderImage(data=data, mime_type=mime_type, revised_prompt=revised_prompt,
                         b64=value.data if keep else None)


def mime_for(output_format: Any) -> str | None:
    return FORMAT_MIME.get(str(output_format)) if output_format else None


async def images_from_data(payload: dict[str, Any], *, what: str, mime_type: str | None,
                           download: Callable[[str], Awaitable[bytes]]) -> list[ProviderImage]:
    """The images of an ImagesResponse: ``data[].b64_json`` or ``data[].url`` (fetched now)."""
    items = payload.get("data")
    if not isinstance(items, list) or not items:
        msg = f"OpenAI answered {what} without any image (no data)"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    images = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            msg = f"OpenAI answered {what} with a data item that is not an object"
            raise UpstreamError(msg, provider=PROVIDER, retryable=False)
        revised = item.get("revised_prompt") if isinstance(item.get("revised_prompt"), str) else None
        if item.get("b64_json"):
            images.append(image_from_b64(item["b64_json"], f"{what} (image {index + 1})", mime_type=mime_type,
                                         revised_prompt=revised))
        elif isinstance(item.get("url"), str) and item["url"]:
            data = await download(item["url"])
            images.append(ProviderImage(data=data, mime_type=mime_type, revised_prompt=revised))
        else:
            msg = f"OpenAI answered {what} with image {index + 1} that has neither b64_json nor url"
            raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    return images


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _split(usage: dict[str, Any], side: str, main: str, other: str) -> tuple[int, int]:
    """``(main, other)`` tokens of one side (``input``/``output``) from its details; without
    details every token counts as ``main``."""
    details = usage.get(f"{side}_tokens_details")
    if isinstance(details, dict):
        return _int(details.get(main)), _int(details.get(other))
    return _int(usage.get(f"{side}_tokens")), 0


def usage_from(usage: Any) -> Usage | None:
    """Token usage of a GPT image model's answer, or None when it reports none (dall-e)."""
    if not isinstance(usage, dict):
        return None
    text_in, image_in = _split(usage, "input", "text_tokens", "image_tokens")
    image_out, text_out = _split(usage, "output", "image_tokens", "text_tokens")
    return Usage(input_text_tokens=text_in, input_image_tokens=image_in,
                 output_image_tokens=image_out, output_text_tokens=text_out)
