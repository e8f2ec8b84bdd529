"""THE one place where errors become OpenAI's ``{"error": {...}}`` envelope.

Status and ``type`` come from the error class (CONTRACT.md's table); a rate limit carries
``Retry-After``. aiohttp's own HTTP errors (404 for an unknown route, 405, 413) are answered in the
same envelope, and anything unexpected becomes a 500 ``server_error`` without a stack trace.

A client that hangs up mid-request is not an error of the server: it is logged once, at INFO, as
one line (``client disconnected method=... path=...``, with the same fields as a structured event)
and no answer is attempted. The paid work the request started still completes and is stored.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from imagegate import ImagegateError, InternalError, InvalidRequest, NotFound

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

__all__ = ["error_envelope", "error_middleware", "error_response", "json_response", "pieces_response"]

log = logging.getLogger("imagegate.http")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer serialised with orjson."""
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json",
                        headers=headers)


async def pieces_response(request: web.Request, pieces: list[bytes | bytearray | memoryview],
                          headers: dict[str, str] | None = None, status: int = 200) -> web.StreamResponse:
    """A JSON answer sent as ``pieces`` in order (big ones are never joined into one copy)."""
    if len(pieces) == 1:
        return web.Response(body=pieces[0], status=status, content_type="application/json", headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = "application/json"
    response.content_length = sum(len(piece) for piece in pieces)
    await response.prepare(request)
    for piece in pieces:
        await response.write(piece)
    await response.write_eof()
    return response


def error_envelope(exc: ImagegateError) -> dict[str, Any]:
    """The OpenAI error object with the contract's extra fields."""
    return {"error": {**exc.to_dict(), "type": exc.openai_type}}


def error_response(exc: ImagegateError, status: int | None = None) -> web.Response:
    """The envelope as a response with the error's status (or ``status``) and headers."""
    headers = {}
    if exc.retry_after is not None and exc.http_status == 429:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return json_response(error_envelope(exc), status or exc.http_status, headers)


def _from_http_exception(exc: web.HTTPException) -> ImagegateError:
    if exc.status == 404:
        return NotFound("no such route; see /openapi.json")
    if exc.status == 413:
        return InvalidRequest("the request body is larger than GATEWAY__MAX_BODY_MB allows", param=None)
    if exc.status < 500:
        return InvalidRequest(exc.reason or "bad request")
    return InternalError(exc.reason or "server error")


def error_middleware() -> Any:
    """Middleware answering every failure in the envelope."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ImagegateError as exc:
            return error_response(exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = error_response(_from_http_exception(exc), exc.status)
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        except Exception as exc:
            if isinstance(exc, ConnectionError) and _client_gone(request):
                return _hung_up(request, exc)
            log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
            return error_response(InternalError(f"the server failed unexpectedly ({type(exc).__name__})"))

    return errors


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _hung_up(request: web.Request, exc: ConnectionError) -> web.Response:
    """Log the hang-up as one line; the answer (nginx's 499) goes nowhere and is never written."""
    event = {"event": "client_disconnected", "method": request.method, "path": request.path,
             "error": type(exc).__name__}
    log.info("client disconnected method=%s path=%s error=%s", request.method, request.path,
             type(exc).__name__, extra={"imagegate_event": event})
    return web.Response(status=499)
