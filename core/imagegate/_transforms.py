"""Transforms of a stored image: resize (fit or fill), crop, thumbnail, convert; each makes a new
stored image with ``parent_ids=[source]``, and the original is never modified.

Parameters are checked before any pixel is decoded; the source's declared size is checked
against :data:`~imagegate._imagetype.MAX_PIXELS` (decompression bombs) and Pillow runs in a
worker thread. Thumbnails are cached: one per source and size, stored under an id derived from
both (as unguessable as the source's id), made once and reused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest, NotFound, StorageError
from ._ids import new_image_id, new_request_id, shard_of
from ._imagetype import ImageTooLarge, NotAnImage, inspect_image
from ._storing import sha256_hex

if TYPE_CHECKING:
    from ._callers import Caller
    from ._models import ImageOut
    from ._stored_images import StoredImages

__all__ = ["FORMATS", "OPS", "Transform", "apply_transform", "parse_transform", "thumbnail", "thumbnail_id",
           "transform_image"]

FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp")}
_FROM_MIME = {mime: name for name, (_, mime) in FORMATS.items()}
MAX_SIDE = 8192
THUMBNAIL_SIDES = (16, 1024)
_OUTPUT = ("format", "quality")
OPS: dict[str, tuple[str, ...]] = {
    "resize": ("width", "height", "mode", *_OUTPUT),
    "crop": ("left", "top", "width", "height", *_OUTPUT),
    "thumbnail": ("size", *_OUTPUT),
    "convert": _OUTPUT,
}
"""Each operation and the parameters it takes."""


@dataclass(frozen=True, slots=True)
class Transform:
    """One checked transform (see :func:`parse_transform`)."""

    op: str
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    left: int | None = None
    top: int | None = None
    size: int | None = None
    format: str | None = None
    quality: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"{name} must be an integer from {low} to {high}, got {str(value)[:20]!r}"
        raise InvalidRequest(msg, param=name)
    return value


def parse_transform(op: str, params: dict[str, Any]) -> Transform:
    """Check an operation and its parameters; errors name the parameter and what it allows."""
    if op not in OPS:
        raise InvalidRequest(f"op must be one of {', '.join(OPS)}, got {str(op)[:20]!r}", param="op")
    given = {key: value for key, value in params.items() if value is not None}
    for name in given:
        if name not in OPS[op]:
            msg = f"{op} takes {', '.join(OPS[op])}; not {name[:40]}"
            raise InvalidRequest(msg, param=name)
    fields: dict[str, Any] = {}
    for name in ("width", "height"):
        if name in given:
            fields[name] = _int(name, given[name], 1, MAX_SIDE)
    for name in ("left", "top"):
        fields[name] = _int(name, given.get(name, 0), 0, MAX_SIDE) if op == "crop" else None
    if "size" in given:
        fields["size"] = _int("size", given["size"], *THUMBNAIL_SIDES)
    fmt = given.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}, got {str(fmt)[:20]!r}", param="format")
    if "quality" in given:
        fields["quality"] = _int("quality", given["quality"], 1, 100)
        if fmt == "png":
            raise InvalidRequest("quality is for jpeg and webp; png is lossless", param="quality")
    mode = given.get("mode", "fit" if op == "resize" else None)
    if op == "resize":
        if mode not in ("fit", "fill"):
            raise InvalidRequest(f"mode must be fit or fill, got {str(mode)[:20]!r}", param="mode")
        if "width" not in fields and "height" not in fields:
            raise InvalidRequest("resize needs width, height or both", param="width")
        if mode == "fill" and not ("width" in fields and "height" in fields):
            raise InvalidRequest("resize with mode=fill needs both width and height", param="height")
    if op == "crop":
        for name in ("width", "height"):
            if name not in fields:
                raise InvalidRequest(f"crop needs {name}", param=name)
    if op == "thumbnail" and "size" not in fields:
        raise InvalidRequest(f"thumbnail needs size (the longest side, {THUMBNAIL_SIDES[0]} to "
                             f"{THUMBNAIL_SIDES[1]})", param="size")
    if op == "convert" and fmt is None:
        raise InvalidRequest(f"convert needs format: {', '.join(FORMATS)}", param="format")
    return Transform(op=op, mode=mode, format=fmt, **fields)


def apply_transform(data: bytes, transform: Transform) -> tuple[bytes, str]:
    """The transformed image's bytes and MIME type (blocking: call it in a thread)."""
    from PIL import Image, ImageOps

    try:
        info = inspect_image(data)
    except ImageTooLarge as exc:
        raise InvalidRequest(f"id: the image is too large to transform ({exc})", param="id") from None
    except NotAnImage as exc:
        raise InvalidRequest(f"id: not a transformable image ({exc})", param="id") from None
    source_format = _FROM_MIME.get(info.mime_type)
    if source_format is None:
        msg = f"id: {info.mime_type} cannot be transformed; transforms take {', '.join(FORMATS)} images"
        raise InvalidRequest(msg, param="id")
    with Image.open(io.BytesIO(bytes(data))) as source:
        source.load()
        image = source.copy()
    width, height = image.size
    if transform.op == "resize":
        box = (transform.width or MAX_SIDE, transform.height or MAX_SIDE)
        if transform.mode == "fill":
            image = ImageOps.fit(image, box, Image.Resampling.LANCZOS)
        else:
            scale = min(box[0] / width, box[1] / height)
            image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                 Image.Resampling.LANCZOS)
    elif transform.op == "crop":
        left, top = transform.left or 0, transform.top or 0
        right, bottom = left + (transform.width or 0), top + (transform.height or 0)
        if right > width or bottom > height:
            msg = (f"the crop {left},{top} {transform.width}x{transform.height} falls outside the "
                   f"{width}x{height} image")
            raise InvalidRequest(msg, param="width" if right > width else "height")
        image = image.crop((left, top, right, bottom))
    elif transform.op == "thumbnail":
        image.thumbnail((transform.size or 1, transform.size or 1), Image.Resampling.LANCZOS)
    fmt = transform.format or source_format
    if transform.quality is not None and fmt == "png":
        raise InvalidRequest("quality is for jpeg and webp; this image stays png (set format)", param="quality")
    name, mime = FORMATS[fmt]
    if fmt == "jpeg" and image.mode != "RGB":
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    buffer = io.BytesIO()
    options = {"quality": transform.quality or 90} if fmt in ("jpeg", "webp") else {}
    image.save(buffer, name, **options)
    return buffer.getvalue(), mime


async def transform_image(images: StoredImages, image_id: str, transform: Transform, *, frontend: str = "api",
                          new_id: str | None = None, caller: Caller | None = None) -> ImageOut:
    """Store the transformed copy of a stored image (one ``caller`` may see; the copy is the
    caller's, a thumbnail its source's); the source is only read."""
    source = await images.metadata(image_id, caller)
    owner = source.get("owner") if new_id is not None or caller is None else caller.owner
    data = await images.read(image_id)
    out, mime = await asyncio.to_thread(apply_transform, data, transform)
    info = inspect_image(out, mime)
    target = new_id or new_image_id()
    metadata = {
        "id": target, "extension": info.extension, "mime_type": info.mime_type, "bytes": len(out),
        "sha256": await sha256_hex(out), "width": info.width, "height": info.height,
        "created": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "prompt": source.get("prompt"), "model": source.get("model"), "provider": source.get("provider"),
        "operation": transform.op if transform.op == "thumbnail" else "transform",
        "transform": transform.as_dict(), "parent_ids": [image_id],
        "cost": {"estimated_usd": 0.0, "actual_usd": 0.0}, "request_id": new_request_id(), "frontend": frontend,
        **({"owner": owner} if owner else {}),
    }
    try:
        await images.storage.save(target, out, metadata)
    except Exception as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"storing the transformed image failed: {type(exc).__name__}: {exc}") from None
    return await images.describe(target)


def thumbnail_id(image_id: str, size: int) -> str:
    """The cached thumbnail's id: the source's day and a hash of the source id and size."""
    year, month, day = shard_of(image_id)
    digest = hashlib.sha256(f"{image_id}\x00thumbnail\x00{size}".encode()).digest()
    token = base64.b32encode(digest).decode("ascii").lower()[:26]
    return f"img_{year}{month}{day}_{token}"


async def thumbnail(images: StoredImages, image_id: str, size: int, *, frontend: str = "api",
                    caller: Caller | None = None) -> ImageOut:
    """The image's thumbnail of ``size`` (longest side): the cached one, or made and stored once."""
    transform = parse_transform("thumbnail", {"size": size})
    await images.metadata(image_id, caller)  # the source must exist (and be the caller's), even when cached
    cached = thumbnail_id(image_id, size)
    try:
        return await images.describe(cached)
    except NotFound:
        pass
    try:
        return await transform_image(images, image_id, transform, frontend=frontend, new_id=cached, caller=caller)
    except StorageError as exc:  # made at the same moment by another request: use that one
        try:
            return await images.describe(cached)
        except NotFound:
            raise exc from None
