"""Reading OpenAI's multipart uploads (edits, variations) part by part.

Image parts (``image``, ``image[]``, ``image[0]``, ``mask``) are read in chunks straight into one
buffer each, with the per-image and whole-body limits enforced while reading, so a 16 x 50 MB
upload never sits in memory twice and an oversized one is refused early. A part whose first bytes
are not an image is refused before the rest is read. Other parts are short text fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from imagegate.errors import InvalidRequest
from imagegate.imagetype import sniff_mime
from imagegate.models import ImageInput

if TYPE_CHECKING:
    from .options import HttpOptions

__all__ = ["UploadForm", "read_upload"]

_IMAGE_FIELD = re.compile(r"^image(\[\d*\])?$")
_CHUNK = 256 * 1024
_MAX_FIELD_BYTES = 1024 * 1024
_SNIFF_BYTES = 4096


@dataclass(slots=True)
class UploadForm:
    """The text fields, input images and mask of one multipart request."""

    fields: dict[str, str] = field(default_factory=dict)
    images: list[ImageInput] = field(default_factory=list)
    mask: ImageInput | None = None


class _Budget:
    """Bytes left for the whole body."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=self.limit - self.left)


async def read_upload(request: web.Request, options: HttpOptions) -> UploadForm:
    """Parse a ``multipart/form-data`` body; raise InvalidRequest (400) or 413 on bad input."""
    if request.content_type != "multipart/form-data":
        msg = f"send multipart/form-data for this endpoint, not {request.content_type or 'no content type'}"
        raise InvalidRequest(msg)
    length = request.content_length
    if length is not None and length > options.max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=options.max_body_bytes, actual_size=length)
    budget = _Budget(options.max_body_bytes)
    form = UploadForm()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                msg = "nested multipart bodies are not supported"
                raise InvalidRequest(msg)
            await _read_part(part, form, options, budget)
    except (ValueError, AssertionError, UnicodeDecodeError, KeyError, HttpProcessingError) as exc:
        msg = f"malformed multipart body ({type(exc).__name__})"
        raise InvalidRequest(msg) from None
    return form


async def _read_part(part: BodyPartReader, form: UploadForm, options: HttpOptions, budget: _Budget) -> None:
    name = part.name or ""
    if _IMAGE_FIELD.match(name) or name == "mask":
        param = "mask" if name == "mask" else "image"
        if param == "mask" and form.mask is not None:
            msg = "send at most one mask"
            raise InvalidRequest(msg, param="mask")
        if param == "image" and len(form.images) >= options.max_images:
            msg = f"send at most {options.max_images} images"
            raise InvalidRequest(msg, param="image")
        data = await _read_image(part, param, options.max_image_bytes, budget)
        upload = ImageInput(kind="bytes", value=data, filename=_safe_filename(part.filename))
        if param == "mask":
            form.mask = upload
        else:
            form.images.append(upload)
        return
    if part.filename is not None:
        msg = f"unexpected file field {name[:40]!r}; files go in image, image[] or mask"
        raise InvalidRequest(msg, param=name[:40] or None)
    raw = await _read_limited(part, _MAX_FIELD_BYTES, budget, name)
    form.fields[name] = raw.decode("utf-8")


async def _read_image(part: BodyPartReader, param: str, limit: int, budget: _Budget) -> bytes:
    chunks: list[bytes] = []
    size = 0
    sniffed = False
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        budget.take(len(chunk))
        if size > limit:
            msg = f"{param} is larger than {limit // (1024 * 1024)} MB (INPUT__MAX_MB)"
            raise InvalidRequest(msg, param=param)
        chunks.append(chunk)
        if not sniffed and size >= _SNIFF_BYTES:
            _check_image(b"".join(chunks)[:_SNIFF_BYTES], param)
            sniffed = True
    if not chunks:
        msg = f"{param} is empty"
        raise InvalidRequest(msg, param=param)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not sniffed:
        _check_image(data, param)
    return data


def _check_image(head: bytes, param: str) -> None:
    if sniff_mime(head) is None:
        msg = f"{param} is not a PNG, JPEG, WEBP, GIF or SVG image"
        raise InvalidRequest(msg, param=param)


async def _read_limited(part: BodyPartReader, limit: int, budget: _Budget, name: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        budget.take(len(chunk))
        if size > limit:
            msg = f"field {name[:40]!r} is longer than {limit} bytes"
            raise InvalidRequest(msg, param=name[:40] or None)
        chunks.append(chunk)
    return b"".join(chunks)


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base[:128] or None
