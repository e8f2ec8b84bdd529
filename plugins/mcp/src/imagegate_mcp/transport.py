"""Serving the MCP server: stdio (nothing but protocol on stdout) or streamable HTTP at ``/mcp``.

Over streamable HTTP, when ``GATEWAY__API_KEYS`` is set every request to ``/mcp`` needs
``Authorization: Bearer <key>``, checked by the HTTP front-end's :class:`~imagegate._bearer.BearerCheck`
(the same keys; constant time; too many failed attempts from one address answer 429). The address
is the peer's, or the client a peer in ``GATEWAY__TRUSTED_PROXIES`` names in ``X-Forwarded-For``
(uvicorn's own proxy-header handling is off, so no other setting decides it). The same server
serves the signed file links of results at ``/files/{id}`` (see :mod:`imagegate_mcp.links`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket
    from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping

    from imagegate.frontend import BearerCheck, TrustedProxies
    from imagegate import Gateway, Settings

    from .early import EarlyStdio

    Scope = MutableMapping[str, Any]
    ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

__all__ = ["bearer_auth", "http_app", "own_url", "serve_http", "serve_stdio", "uvicorn_config"]

log = logging.getLogger("imagegate.mcp")

MCP_PATH = "/mcp"


def bearer_auth(app: ASGIApp, check: BearerCheck, keys: Any = None, proxies: TrustedProxies | None = None) -> ASGIApp:
    """An ASGI wrapper answering 401 (an imagegate error object) unless a known bearer key is sent
    (one of ``GATEWAY__API_KEYS`` or a virtual key of ``keys``; none needed while neither exists),
    and 429 to an address with too many failed attempts (the HTTP front-end's check; the address
    one of ``proxies`` names, else the peer's). The caller it finds rides in the scope
    (:data:`~imagegate_mcp.server.CALLER`)."""
    from .server import CALLER
    import orjson

    from imagegate import ImagegateError
    from imagegate.frontend import TrustedProxies

    proxies = proxies or TrustedProxies()

    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers") or []
            header = dict(headers).get(b"authorization")
            forwarded = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-for"]
            client = proxies.client((scope.get("client") or (None,))[0], forwarded)
            try:
                scope[CALLER] = await check.caller(header, client, keys)
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


def own_url(host: str, port: int) -> str:
    """The base URL a client on this machine reaches ``host:port`` at."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def http_app(gateway: Gateway, *, host: str = "127.0.0.1", base_url: str | None = None) -> ASGIApp:
    """The streamable-HTTP ASGI app (with its own lifespan) for a gateway: ``/mcp``, and the signed
    file links at ``/files/{id}`` based at ``GATEWAY__PUBLIC_URL``, else ``base_url`` (this server)."""
    from imagegate.frontend import BearerCheck, TrustedProxies

    from .links import FILES_PREFIX, FileLinks
    from .server import build_server

    links = FileLinks(gateway, gateway.settings.gateway.public_url or base_url or own_url(host, 8000))
    check = BearerCheck.from_settings(gateway.settings.gateway)
    server = build_server(gateway, with_paths=False, links=links)
    app: ASGIApp = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    mcp = bearer_auth(app, check, gateway.keys, TrustedProxies(gateway.settings.gateway.trusted_proxies))

    async def route(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(FILES_PREFIX):
            await links(scope, receive, send)  # the signature is the permission
        else:
            await mcp(scope, receive, send)

    return route


def _malformed(exc: Exception) -> Any:
    """The JSON-RPC error answering a line that is not JSON (-32700) or not a JSON-RPC message (-32600)."""
    from mcp.shared.message import SessionMessage
    from mcp_types import ErrorData, JSONRPCError
    from mcp_types.jsonrpc import INVALID_REQUEST, PARSE_ERROR
    from pydantic import ValidationError

    not_json = isinstance(exc, ValidationError) and any(e["type"] == "json_invalid" for e in exc.errors())
    code, message = ((PARSE_ERROR, "Parse error: the line is not JSON") if not_json
                     else (INVALID_REQUEST, "Invalid Request: the line is not a JSON-RPC 2.0 message"))
    return SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message)))


@asynccontextmanager
async def answering_malformed(read_stream: Any, write_stream: Any) -> AsyncIterator[Any]:
    """``read_stream`` without the errors the stdio transport yields for malformed lines (the SDK
    drops them silently); each is answered on ``write_stream`` with a JSON-RPC error of id null."""
    import anyio

    send, receive = anyio.create_memory_object_stream[Any](0)

    async def forward() -> None:
        async with send, read_stream:
            async for item in read_stream:
                if isinstance(item, Exception):
                    log.warning("a malformed line on stdin was answered with an error (%s)", type(item).__name__)
                    await write_stream.send(_malformed(item))
                else:
                    await send.send(item)

    async with anyio.create_task_group() as group:
        group.start_soon(forward)
        yield receive
        group.cancel_scope.cancel()


def _new_gateway(settings: Settings | None) -> Gateway:
    from imagegate import Gateway
    from imagegate.frontend import make_plugin_manager
    from imagegate import Settings

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
        async with (stdio_server(*streams) as (wire_in, write_stream),
                    answering_malformed(wire_in, write_stream) as read_stream):
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
    from imagegate import open_gateway

    if sockets is None:
        sockets = [_bind(host, port)]
    base_url = own_url(host, sockets[0].getsockname()[1])
    async with open_gateway(settings) as gateway:
        await uvicorn.Server(uvicorn_config(http_app(gateway, host=host, base_url=base_url), host, port)).serve(
            sockets=sockets)


def uvicorn_config(app: ASGIApp, host: str, port: int) -> Any:
    """How uvicorn serves ``app``: no logging config or access log of its own, and no handling of
    proxy headers (``GATEWAY__TRUSTED_PROXIES`` alone decides who the client is)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                          proxy_headers=False)


def _bind(host: str, port: int) -> socket.socket:
    import socket

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=128)
