"""A succeeded prediction's output (one URL or a list) turned into image bytes.

Every file is fetched at once through the gateway's capped download (``call.download``); a
``data:`` URL is decoded in place. The MIME type is the format the request asked for when the
model has a format parameter, the model's only format when it has one (SVG for Recraft), and
otherwise whatever the bytes are; the gateway then checks the bytes against it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from imagegate.files import FORMAT_MIME
from imagegate import ProviderImage, UpstreamError

if TYPE_CHECKING:
    from imagegate import ProviderCall

__all__ = ["output_urls", "fetch_images"]


def output_urls(prediction: dict[str, Any]) -> list[str]:
    """The output file URLs of a succeeded prediction."""
    output = prediction.get("output")
    items = output if isinstance(output, list) else [output]
    urls = [item for item in items if isinstance(item, str) and item]
    if not urls or len(urls) != len(items):
        msg = f"Replicate prediction {prediction.get('id')} succeeded without usable output file URLs"
        raise UpstreamError(msg, retryable=False)
    for url in urls:
        if not url.startswith(("https://", "http://", "data:")):
            msg = f"Replicate prediction {prediction.get('id')} returned an output that is not a URL"
            raise UpstreamError(msg, retryable=False)
    return urls


def _declared_mime(call: ProviderCall, data: bytes | bytearray) -> str | None:
    from imagegate.files import sniff_mime

    spec = call.model
    if spec.format_param:
        return FORMAT_MIME.get(spec.output_format(call.params)) or sniff_mime(data)
    if len(spec.output_formats) == 1:
        return FORMAT_MIME.get(spec.output_formats[0])
    return sniff_mime(data)


def _decode_data_url(url: str) -> bytes:
    import pybase64

    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(payload)
    try:
        return pybase64.b64decode(payload, validate=True)
    except ValueError:
        msg = "Replicate returned a data: URL that is not valid base64"
        raise UpstreamError(msg, retryable=False) from None


async def _fetch(call: ProviderCall, url: str) -> bytes | bytearray:
    if url.startswith("data:"):
        return _decode_data_url(url)
    return await call.download(url)


async def fetch_images(call: ProviderCall, prediction: dict[str, Any]) -> list[ProviderImage]:
    """Download every output file concurrently and describe each as a :class:`ProviderImage`."""
    blobs = await asyncio.gather(*(_fetch(call, url) for url in output_urls(prediction)))
    seed = call.params.get("seed")
    return [ProviderImage(data=blob, mime_type=_declared_mime(call, blob), seed=seed) for blob in blobs]
