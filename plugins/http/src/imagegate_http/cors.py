"""CORS for browser clients: off unless ``GATEWAY__CORS_ORIGINS`` lists origins (or ``*``).

Preflights are answered by a middleware (before authentication, as browsers send no key with
them); the ``Access-Control-*`` headers are added when any response is prepared, streamed
server-sent events and error envelopes included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

__all__ = ["install_cors"]

ALLOW_HEADERS = "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, Prefer, Idempotency-Key"
EXPOSE_HEADERS = "Retry-After, Location, Preference-Applied"
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"


def install_cors(app: web.Application, origins: list[str]) -> None:
    """Allow the listed origins on ``app``; do nothing for an empty list."""
    if not origins:
        return
    allowed = set(origins)

    def allow(request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        if "*" in allowed:
            return "*"
        return origin if origin in allowed else None

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = allow(request)
        if request.method == "OPTIONS" and origin and "Access-Control-Request-Method" in request.headers:
            return web.Response(status=204, headers={
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
            })
        return await handler(request)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        origin = allow(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            response.headers.add("Vary", "Origin")

    app.middlewares.insert(0, preflight)
    app.on_response_prepare.append(add_headers)
