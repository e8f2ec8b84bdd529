"""Knowing what bytes really are: sniffing, dimensions, and the check that outputs are images.

Providers declare a format; the gateway believes the bytes. Raster images are identified from
their signatures and their headers are read by Pillow without decoding pixels (cheap for a
multi-megabyte image); SVG is parsed and cleaned by :mod:`imagegate.svg_safety`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ._formats import MIME_EXTENSION

__all__ = ["MAX_PIXELS", "ImageInfo", "ImageTooLarge", "NotAnImage", "inspect_image", "sniff_mime"]

MAX_PIXELS = 89_478_485
"""The most pixels an image may declare (Pillow's own bomb threshold): more could only be decoded
with gigabytes of memory, so such a header is refused before any pixel is."""

EXTENSIONS = MIME_EXTENSION


class NotAnImage(ValueError):
    """The bytes are not an image of a supported type (or not the type declared)."""


class ImageTooLarge(NotAnImage):
    """The image declares more than :data:`MAX_PIXELS` pixels (a decompression bomb, or just huge)."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime_type: str
    width: int | None
    height: int | None
    data: bytes | bytearray | memoryview

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime_type]


def sniff_mime(data: bytes | bytearray | memoryview) -> str | None:
    """The MIME type from the first bytes, or None."""
    head = bytes(data[:512])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in bytes(data[:4096]).lower():
        return "image/svg+xml"
    return None


def inspect_image(data: bytes | bytearray | memoryview, expected: str | None = None) -> ImageInfo:
    """Identify and measure an image; SVG comes back sanitized. Raise :class:`NotAnImage`."""
    mime = sniff_mime(data)
    if mime is None:
        msg = "the bytes are not a PNG, JPEG, WEBP, GIF or SVG image"
        raise NotAnImage(msg)
    if expected is not None and mime != expected:
        msg = f"declared {expected} but the bytes are {mime}"
        raise NotAnImage(msg)
    if mime == "image/svg+xml":
        from ._svg_safety import UnsafeSVG, sanitize_svg, svg_dimensions

        try:
            clean = sanitize_svg(bytes(data))
        except UnsafeSVG as exc:
            msg = f"unusable SVG: {exc}"
            raise NotAnImage(msg) from None
        width, height = svg_dimensions(clean)
        return ImageInfo(mime, width, height, clean)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        msg = f"the {mime} image declares more than {MAX_PIXELS} pixels, the most accepted"
        raise ImageTooLarge(msg) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        msg = f"unreadable {mime} image: {exc}"
        raise NotAnImage(msg) from None
    if width * height > MAX_PIXELS:
        msg = f"the {mime} image is {width}x{height} pixels; at most {MAX_PIXELS} pixels are accepted"
        raise ImageTooLarge(msg)
    return ImageInfo(mime, width, height, data)
