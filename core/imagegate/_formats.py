"""The image formats imagegate knows, in one table: format name, MIME type and file extension.

Catalogs name formats (``png``, ``jpeg`` or ``jpg``, ``webp``, ``gif``, ``svg``); bytes are
identified by MIME type; files are saved with the format's extension.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["FORMATS", "FORMAT_MIME", "MIME_EXTENSION", "MIME_FORMAT", "ImageFormat"]


class ImageFormat(NamedTuple):
    name: str
    mime_type: str
    extension: str
    aliases: tuple[str, ...] = ()


FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat("png", "image/png", "png"),
    ImageFormat("jpeg", "image/jpeg", "jpg", aliases=("jpg",)),
    ImageFormat("webp", "image/webp", "webp"),
    ImageFormat("gif", "image/gif", "gif"),
    ImageFormat("svg", "image/svg+xml", "svg"),
)

FORMAT_MIME: dict[str, str] = {name: f.mime_type for f in FORMATS for name in (f.name, *f.aliases)}
"""Format name or alias -> MIME type."""

MIME_FORMAT: dict[str, str] = {f.mime_type: f.name for f in FORMATS}
"""MIME type -> format name (OpenAI's ``output_format``)."""

MIME_EXTENSION: dict[str, str] = {f.mime_type: f.extension for f in FORMATS}
"""MIME type -> file extension."""
