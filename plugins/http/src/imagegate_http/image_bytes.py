"""The one way stored image bytes are answered (``GET /v1/images/{id}?content=1``, ``/files/{id}``).

Every type, SVG above all, gets the same headers: a Content-Security-Policy that sandboxes the
document and allows no script or fetch (an SVG opened from a link cannot run in the gateway's
origin), ``nosniff``, and an inline ``Content-Disposition`` with a file name built from the id.
"""

from __future__ import annotations

from aiohttp import web

from imagegate.files import EXTENSIONS

__all__ = ["IMAGE_CSP", "image_response"]

IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def image_response(data: bytes, mime_type: str, image_id: str, cache_control: str) -> web.Response:
    """``data`` as ``mime_type`` with the sandboxing headers (``image_id`` matches the id pattern)."""
    extension = EXTENSIONS.get(mime_type, "bin")
    headers = {
        "Content-Security-Policy": IMAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{image_id}.{extension}"',
        "Cache-Control": cache_control,
    }
    return web.Response(body=data, content_type=mime_type, headers=headers)
