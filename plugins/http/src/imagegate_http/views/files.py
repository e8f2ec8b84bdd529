"""``/files/{id}?exp=&sig=``: images behind the gateway's expiring HMAC-signed URLs (local
storage, and images waiting in the spool while a remote backend is down).

Only an id matching the gateway's strict id pattern, with an unexpired signature made with the
gateway's key, is read; the file is found by id through the gateway, never by a path taken from
the request, so ``../``, ``%2e%2e`` or encoded separators cannot reach outside storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import NotFound, PermissionDenied
from imagegate.files import is_image_id

from ..image_bytes import image_response
from ..keys import GATEWAY

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["signed_file"]


async def signed_file(request: web.Request) -> web.Response:
    """GET /files/{id}: the bytes, for a valid unexpired signature; 403/404 otherwise."""
    gateway = request.app[GATEWAY]
    image_id = request.match_info["id"]
    signer = gateway.file_signer()
    if signer is None:
        msg = "this gateway does not serve signed file URLs (set GATEWAY__PUBLIC_URL)"
        raise NotFound(msg, param="id")
    if not is_image_id(image_id):
        msg = "no such file"
        raise NotFound(msg, param="id")
    expires, sig = request.query.get("exp", ""), request.query.get("sig", "")
    if not signer.verify(image_id, expires, sig):
        msg = "the file URL is expired or its signature is invalid; ask for a fresh URL"
        raise PermissionDenied(msg, param="sig")
    metadata = await gateway.metadata(image_id)  # from storage, or the spool while it waits there
    data = await gateway.read(image_id)
    return image_response(data, metadata["mime_type"], image_id, "private, max-age=300")
