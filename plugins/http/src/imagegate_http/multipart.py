"""Reading OpenAI's multipart uploads (edits, variations) part by part.

Image parts (``image``, ``image[]``, ``image[0]``, ``mask``, ``markup``) are read in chunks, with the
per-image and whole-body limits enforced while reading, so an oversized upload is refused as soon
as it is known to be one (a declared ``Content-Length`` before anything is read). A part whose
first bytes are not an image is refused before the rest is read. Other parts are text fields of
at most ``max_field_kb``, and a body has at most ``max_parts`` parts. Field names are quoted in
errors only by a short prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from imagegate import InvalidRequest
from imagegate.files import sniff_mime
from imagegate import ImageInput

from .bodies import check_received, refuse_declared, too_large
from .quoting import quote

if TYPE_CHECKING:
    from .options import HttpOptions

__all__ = ["UploadForm", "read_upload"]

_IMAGE_FIELD = re.compile(r"^image(\[\d*\])?$")
_OVERLAYS = ("mask", "markup")
"""Single-image file fields beside the input images."""
_CHUNK = 256 * 1024
_SNIFF_BYTES = 4096
_BODY = ("the request body", "GATEWAY__MAX_BODY_MB")


@dataclass(slots=True)
class UploadForm:
    """The text fields, input images, mask and markup of one multipart request."""

    fields: dict[str, str] = field(default_factory=dict)
    images: list[ImageInput] = field(default_factory=list)
    mask: ImageInput | None = None
    markup: ImageInput | None = None


async def read_upload(request: web.Request, options: HttpOptions) -> UploadForm:
    """Parse a ``multipart/form-data`` body; raise InvalidRequest (400) or 413 on bad input."""
    if request.content_type != "multipart/form-data":
        shown = quote(request.content_type) if request.content_type else "no content type"
        msg = f"send multipart/form-data for this endpoint, not {shown}"
        raise InvalidRequest(msg)
    refuse_declared(request, options.max_body_bytes, *_BODY)
    form = UploadForm()
    parts = 0
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            parts += 1
            if parts > options.max_parts:
                msg = f"the upload has more than {options.max_parts} parts; GATEWAY__MAX_PARTS raises it"
                raise InvalidRequest(msg)
            if not isinstance(part, BodyPartReader):
                msg = "nested multipart bodies are not supported"
                raise InvalidRequest(msg)
            await _read_part(request, part, form, options)
    except (ValueError, AssertionError, UnicodeDecodeError, KeyError, HttpProcessingError) as exc:
        msg = f"malformed multipart body ({type(exc).__name__})"
        raise InvalidRequest(msg) from None
    return form


async def _read_part(request: web.Request, part: BodyPartReader, form: UploadForm,
                     options: HttpOptions) -> None:
    name = part.name or ""
    if _IMAGE_FIELD.match(name) or name in _OVERLAYS:
        param = name if name in _OVERLAYS else "image"
        if param in _OVERLAYS and getattr(form, param) is not None:
            msg = f"send at most one {param}"
            raise InvalidRequest(msg, param=param)
        if param == "image" and len(form.images) >= options.max_images:
            msg = f"send at most {options.max_images} images"
            raise InvalidRequest(msg, param="image")
        data = await _read_image(request, part, param, options)
        upload = ImageInput(kind="bytes", value=data, filename=_safe_filename(part.filename))
        if param in _OVERLAYS:
            setattr(form, param, upload)
        else:
            form.images.append(upload)
        return
    if part.filename is not None:
        msg = f"unexpected file field {quote(name)}; files go in image, image[], mask or markup"
        raise InvalidRequest(msg, param=name[:40] or None)
    raw = await _read_field(request, part, name, options)
    form.fields[name] = raw.decode("utf-8")


async def _read_image(request: web.Request, part: BodyPartReader, param: str, options: HttpOptions) -> bytes:
    limit = options.max_image_bytes
    chunks: list[bytes] = []
    size = 0
    sniffed = False
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        check_received(request, options.max_body_bytes, *_BODY)
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


async def _read_field(request: web.Request, part: BodyPartReader, name: str, options: HttpOptions) -> bytes:
    limit = options.max_field_bytes
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(min(_CHUNK, limit + 1)):
        size += len(chunk)
        check_received(request, options.max_body_bytes, *_BODY)
        if size > limit:
            raise too_large(f"field {quote(name)}", limit, "GATEWAY__MAX_FIELD_KB", param=name[:40] or None)
        chunks.append(chunk)
    return b"".join(chunks)


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base[:128] or None
