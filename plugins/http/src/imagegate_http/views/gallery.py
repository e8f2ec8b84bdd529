"""``/gallery``: a browser page over the stored images (hand-written HTML, CSS and JavaScript
shipped as package data; no build step, nothing fetched from elsewhere).

The page and its assets carry a strict Content-Security-Policy (scripts, styles and requests from
this origin only, images from this origin or ``blob:``/``data:`` URLs, no framing) and
``nosniff``. They hold no data and need no key: the page asks for one when ``/v1`` answers 401,
keeps it in the tab's ``sessionStorage`` and sends it as a bearer token on every API call;
images are fetched with that key and shown through ``blob:`` URLs, SVG only ever as ``<img>``.
"""

from __future__ import annotations

import asyncio
import functools
from importlib.resources import files

from aiohttp import web

from imagegate import NotFound

from ..quoting import quote

__all__ = ["PAGE_CSP", "gallery_asset", "gallery_page"]

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

_TYPES = {"index.html": "text/html", "gallery.js": "text/javascript", "gallery.css": "text/css"}


@functools.cache
def _read(name: str) -> bytes:
    return files("imagegate_http").joinpath("gallery", name).read_bytes()


async def _answer(name: str) -> web.Response:
    body = await asyncio.to_thread(_read, name)
    headers = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
    return web.Response(body=body, content_type=_TYPES[name], charset="utf-8", headers=headers)


async def gallery_page(request: web.Request) -> web.Response:
    """GET /gallery: the page."""
    return await _answer("index.html")


async def gallery_asset(request: web.Request) -> web.Response:
    """GET /gallery/{asset}: the page's script or style sheet."""
    name = request.match_info["asset"]
    if name not in _TYPES or name == "index.html":
        msg = f"no gallery asset {quote(name, 40)}; there are gallery.js and gallery.css"
        raise NotFound(msg, param="asset")
    return await _answer(name)
