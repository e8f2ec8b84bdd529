"""Serving the MCP server: stdio (nothing but protocol on stdout) or streamable HTTP at ``/mcp``.

Over streamable HTTP, when ``GATEWAY__API_KEYS`` is set every request needs
``Authorization: Bearer <key>``, checked by the HTTP front-end's :class:`~imagegate.bearer.BearerCheck`
(constant time; too many failed attempts from one address answer 429).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket
    from collections.abc import Awaitable, Callable, MutableMapping

    from imagegate.bearer import BearerCheck
    from imagegate.gateway import Gateway
    from imagegate.settings import Settings

    from .early import EarlyStdio

    Scope = MutableMapping[str, Any]
    ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

__all__ = ["bearer_auth", "http_app", "serve_http", "serve_stdio"]

log = logging.getLogger("imagegate.mcp")

MCP_PATH = "/mcp"


def bearer_auth(app: ASGIApp, check: BearerCheck) -> ASGIApp:
    """An ASGI wrapper answering 401 (an imagegate error object) unless a known bearer key is sent,
    and 429 to an address with too many failed attempts (the HTTP front-end's check)."""
    import orjson

    from imagegate.errors import ImagegateError

    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization")
            try:
                check.check(header, (scope.get("client") or ("unknown",))[0])
            except ImagegateError as exc:
                body = orjson.dumps({"error": exc.to_dict()})
                headers = [(b"content-type", b"application/json"),
                           (b"www-authenticate", b'Bearer realm="imagegate"'),
                           (b"content-length", str(len(body)).encode())]
                if exc.retry_after is not None:
                    headers.append((b"retry-after", str(max(1, math.ceil(exc.retry_after))).encode()))
                await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def http_app(gateway: Gateway, *, host: str = "127.0.0.1") -> ASGIApp:
    """The streamable-HTTP ASGI app (with its own lifespan) for a gateway."""
    from .server import build_server

    server = build_server(gateway, with_paths=False)
    app: ASGIApp = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    from imagegate.bearer import BearerCheck

    check = BearerCheck.from_settings(gateway.settings.gateway)
    return bearer_auth(app, check) if check.enabled else app


def _new_gateway(settings: Settings | None) -> Gateway:
    from imagegate.gateway import Gateway
    from imagegate.plugins import make_plugin_manager
    from imagegate.settings import Settings

    return Gateway(settings or Settings(), make_plugin_manager())


async def _open_gateway(settings: Settings | None) -> Gateway:
    """Load the plugins in a worker thread (so ``initialize`` is answered meanwhile), then open."""
    gateway = await asyncio.to_thread(_new_gateway, settings)
    try:
        await gateway.open()
    except BaseException:
        await gateway.aclose()
        raise
    return gateway


async def serve_stdio(settings: Settings | None = None, early: EarlyStdio | None = None) -> None:
    """Serve one client over stdin/stdout until it closes them.

    The gateway opens while the handshake is answered; tool calls wait for it, and a gateway that
    cannot open (bad configuration) is reported as the error of every call. ``early`` is the wire
    already taken by :class:`~imagegate_mcp.early.EarlyStdio` (which may have answered
    ``initialize`` before the SDK loaded); without it the SDK takes stdin/stdout itself.
    """
    from mcp.server.stdio import stdio_server

    from .server import build_server

    opening = asyncio.ensure_future(_open_gateway(settings))
    try:
        server = build_server(opening, with_paths=True)
        streams = early.streams() if early is not None else (None, None)
        async with stdio_server(*streams) as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        if early is not None:
            early.restore()
        try:
            gateway = await opening
        except Exception as exc:
            log.error("the gateway did not open: %s", getattr(exc, "message", type(exc).__name__))
        else:
            await gateway.aclose()


async def serve_http(host: str, port: int, settings: Settings | None = None,
                     sockets: list[socket.socket] | None = None) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` until interrupted."""
    import uvicorn
    from imagegate.gateway import open_gateway

    async with open_gateway(settings) as gateway:
        config = uvicorn.Config(http_app(gateway, host=host), host=host, port=port, log_config=None,
                                access_log=False, lifespan="on")
        await uvicorn.Server(config).serve(sockets=sockets)
