"""Real image files for tests: small pictures that differ with a seed, in any format Pillow writes."""

from __future__ import annotations

import io

__all__ = ["image_bytes"]

_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}


def image_bytes(width: int = 64, height: int = 64, fmt: str = "png", *, seed: int = 0,
                transparent: bool = False) -> bytes:
    """A real ``fmt`` file of ``width`` x ``height``: a two-colour picture that differs with
    ``seed``; with ``transparent`` (png, webp) its border is fully transparent."""
    from PIL import Image, ImageDraw

    mode = "RGBA" if transparent and fmt in ("png", "webp") else "RGB"
    base = ((seed * 67) % 256, (seed * 131 + 80) % 256, (seed * 29 + 160) % 256)
    image = Image.new(mode, (width, height), (*base, 0) if mode == "RGBA" else base)
    inner = (255 - base[0], 255 - base[1], 255 - base[2])
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4),
                                    fill=(*inner, 255) if mode == "RGBA" else inner)
    buffer = io.BytesIO()
    image.save(buffer, format=_PIL_FORMATS[fmt])
    return buffer.getvalue()
