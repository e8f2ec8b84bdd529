"""``POST /v1/images/{id}/transform`` and ``GET /v1/images/{id}/thumbnail?size=N``: new stored
images made from a stored one (the original is never changed); thumbnails are made once, then reused."""

from __future__ import annotations

from aiohttp import web

from imagegate import InvalidRequest

from ..envelope import json_response
from ..image_bytes import image_response
from ..keys import GATEWAY, OPTIONS, caller_of
from ..quoting import quote
from ..translate import read_json

__all__ = ["thumbnail", "transform"]


async def transform(request: web.Request) -> web.Response:
    """POST /v1/images/{id}/transform with ``{"op": "resize"|"crop"|"thumbnail"|"convert", ...}``."""
    gateway, options = request.app[GATEWAY], request.app[OPTIONS]
    body = await read_json(request, options.max_json_bytes)
    op = body.pop("op", None)
    if not isinstance(op, str):
        raise InvalidRequest("op is required: resize, crop, thumbnail or convert", param="op")
    source = request.match_info["id"]
    image = await gateway.transform(source, op, body, frontend="http", caller=caller_of(request))
    metadata = await gateway.metadata(image.id)
    return json_response({"object": "image", **metadata, "id": image.id, "url": image.url})


async def thumbnail(request: web.Request) -> web.Response:
    """GET /v1/images/{id}/thumbnail?size=N: the bytes of the cached thumbnail (longest side N)."""
    gateway = request.app[GATEWAY]
    text = request.query.get("size", "256")
    if not text.isdigit():
        raise InvalidRequest(f"size={quote(text, 20)} must be an integer from 16 to 1024", param="size")
    image = await gateway.thumbnail(request.match_info["id"], int(text), frontend="http", caller=caller_of(request))
    data = await gateway.read(image.id)
    return image_response(data, image.mime_type, image.id, "private, max-age=3600")
