"""What the fake OpenAI answers with: real GIF and SVG files, and checks of its own answers.

Every answer is validated against the official SDK's response models (``ImagesResponse``, the
``image_*`` stream events, ``Response``); as those models keep unknown fields instead of
refusing them, a field the SDK does not declare (at any depth) is reported as a problem too.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["answer_problems", "gif_bytes", "svg_bytes"]


def gif_bytes(width: int, height: int, frames: int, duration_ms: int, *, seed: int = 0) -> bytes:
    """A real animated GIF of ``frames`` frames, each shown ``duration_ms`` (a square moving across)."""
    from PIL import Image, ImageDraw

    pictures = []
    base = ((seed * 67) % 256, (seed * 131 + 80) % 256, (seed * 29 + 160) % 256)
    side = max(1, min(width, height) // 4)
    for index in range(frames):
        frame = Image.new("RGB", (width, height), base)
        left = (width - side) * index // max(1, frames - 1)
        ImageDraw.Draw(frame).rectangle((left, height // 2 - side // 2, left + side, height // 2 + side // 2),
                                        fill=(255 - base[0], 255 - base[1], 255 - base[2]))
        pictures.append(frame)
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=round(duration_ms / 10) * 10, loop=0, disposal=2)
    return buffer.getvalue()


def svg_bytes(width: int, height: int, *, prompt: str = "", seed: int = 0) -> bytes:
    """A real SVG document of ``width`` x ``height`` (a background, a circle and a title)."""
    from xml.sax.saxutils import escape

    hue = (seed * 47) % 360
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><title>{escape(prompt[:80])}</title>'
            f'<rect width="{width}" height="{height}" fill="hsl({hue},60%,80%)"/>'
            f'<circle cx="{width // 2}" cy="{height // 2}" r="{min(width, height) // 3}" '
            f'fill="hsl({(hue + 180) % 360},70%,40%)"/></svg>').encode()


def _unknown_fields(value: Any, path: str) -> list[str]:
    from pydantic import BaseModel

    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _unknown_fields(item, f"{path}{i}/")]
    if not isinstance(value, BaseModel):
        return []
    found = [f"{path}{name}: not a field of the SDK's {type(value).__name__}" for name in value.model_extra or {}]
    for name in type(value).model_fields:
        found += _unknown_fields(getattr(value, name), f"{path}{name}/")
    return found


def answer_problems(kind: str, answer: dict[str, Any]) -> list[str]:
    """What is wrong with an answer by the SDK 3.54 model for ``kind``: ``images``,
    ``image_generation`` / ``image_edit`` (stream events) or ``response``."""
    from pydantic import TypeAdapter, ValidationError

    from openai.types import ImageEditStreamEvent, ImageGenStreamEvent, ImagesResponse
    from openai.types.responses import Response

    target: Any = {"images": ImagesResponse, "image_generation": ImageGenStreamEvent,
                   "image_edit": ImageEditStreamEvent, "response": Response}[kind]
    try:
        parsed = TypeAdapter(target).validate_python(answer)
    except ValidationError as exc:
        return [f"answer {kind}: {'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return [f"answer {kind}: {p}" for p in _unknown_fields(parsed, "")]
