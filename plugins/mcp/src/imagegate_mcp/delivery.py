"""Tool-result content that fits an assistant's context: ``link``, ``preview`` or ``full``.

Hosts cap tool results (often near 1 MB), so ``full`` sends images inline only up to
``MCP__INLINE_MAX_BYTES`` in total and downgrades the rest to previews, saying so. SVG comes back
as an ``image/svg+xml`` embedded resource (never a text block); every image also has a resource
link to ``imagegate://images/{id}``.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Gateway, ImageOut, ImageResult
    from mcp_types import ContentBlock

    from .settings import Deliver, MCPSettings

__all__ = ["deliver_content", "make_preview"]

SVG = "image/svg+xml"
_PREVIEW_SIDES = (512, 384, 256, 128, 64)
_QUALITIES = (80, 60, 40)


def make_preview(data: bytes, max_bytes: int) -> tuple[bytes, str, tuple[int, int]] | None:
    """A JPEG (or WEBP, to keep transparency) thumbnail of at most ``max_bytes``; None if impossible."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        source.load()
        alpha = source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info
        image = source.convert("RGBA" if alpha else "RGB")
    fmt, mime = ("WEBP", "image/webp") if alpha else ("JPEG", "image/jpeg")
    for side in _PREVIEW_SIDES:
        thumb = image.copy()
        thumb.thumbnail((side, side))
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            thumb.save(buffer, fmt, quality=quality)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue(), mime, thumb.size
    return None


def _b64(data: bytes) -> str:
    import pybase64

    return pybase64.b64encode(data).decode("ascii")


def _link(image: ImageOut, model: str) -> ContentBlock:
    from mcp_types import ResourceLink

    size = f"{image.width}x{image.height} " if image.width and image.height else ""
    return ResourceLink(uri=image.uri, name=image.id, mime_type=image.mime_type, size=image.bytes,
                        description=f"{size}{image.mime_type} from {model}; read with resources/read")


def _svg(image: ImageOut, data: bytes) -> ContentBlock:
    from mcp_types import EmbeddedResource, TextResourceContents

    text = data.decode("utf-8", errors="replace")
    return EmbeddedResource(resource=TextResourceContents(uri=image.uri, mime_type=SVG, text=text))


async def _data(gateway: Gateway, image: ImageOut) -> bytes:
    if image.data is not None:
        return bytes(image.data)
    return await gateway.read(image.id)


async def _preview(image: ImageOut, data: bytes, cap: int) -> tuple[list[ContentBlock], str | None]:
    from mcp_types import ImageContent

    if image.mime_type == SVG:
        if len(data) <= cap:
            return [_svg(image, data)], None
        return [], f"{image.id}: the SVG is {len(data)} bytes, above MCP__PREVIEW_MAX_BYTES={cap}; read {image.uri}"
    made = await asyncio.to_thread(make_preview, data, cap)
    if made is None:
        return [], f"{image.id}: no preview fits in MCP__PREVIEW_MAX_BYTES={cap}; read {image.uri}"
    preview, mime, _size = made
    return [ImageContent(data=_b64(preview), mime_type=mime)], None


async def deliver_content(gateway: Gateway, result: ImageResult, deliver: Deliver,
                          settings: MCPSettings, summary: str) -> list[ContentBlock]:
    """The content blocks for ``result``: the summary text, then each image as ``deliver`` asks."""
    from mcp_types import ImageContent, TextContent

    blocks: list[Any] = [TextContent(text=summary)]
    notes: list[str] = list(result.notes)
    budget = settings.inline_max_bytes
    for image in result.images:
        if deliver == "link":
            blocks.append(_link(image, result.model))
            continue
        data = await _data(gateway, image)
        if deliver == "full" and len(data) <= budget:
            budget -= len(data)
            blocks.append(_svg(image, data) if image.mime_type == SVG
                          else ImageContent(data=_b64(data), mime_type=image.mime_type))
            continue
        blocks.append(_link(image, result.model))
        if deliver == "full":
            notes.append(f"{image.id}: {len(data)} bytes is above what fits inline (MCP__INLINE_MAX_BYTES="
                         f"{settings.inline_max_bytes}); sent a preview instead; read {image.uri} for the "
                         "full image")
        preview, note = await _preview(image, data, settings.preview_max_bytes)
        blocks.extend(preview)
        if note:
            notes.append(note)
    blocks.extend(TextContent(text=note) for note in notes)
    return blocks
