"""Bounded request bodies: a declared ``Content-Length`` over the limit is refused before anything
is read, and what is read is counted as it arrives, so no body is ever held beyond its limit.

aiohttp's own ``request.read()`` is not used: it raises the stream's buffer to the app's whole
``client_max_size`` and keeps the body twice; :func:`read_body` reads chunk by chunk into one
buffer. An over-limit body is answered 413 with code ``invalid_request`` naming the limit and the
setting that raises it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import InvalidRequest

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["BodyTooLarge", "check_received", "read_body", "refuse_declared", "too_large"]

_MB = 1024 * 1024


class BodyTooLarge(InvalidRequest):
    """A body, or a part of one, over its limit (HTTP 413; code ``invalid_request``)."""

    http_status = 413


def _size(limit: int) -> str:
    return f"{limit / _MB:g} MB" if limit >= _MB else f"{limit / 1024:g} KB"


def too_large(what: str, limit: int, setting: str, param: str | None = None) -> BodyTooLarge:
    """The error for ``what`` over ``limit`` bytes; ``setting`` is the variable that raises it."""
    return BodyTooLarge(f"{what} is larger than {_size(limit)}; {setting} raises the limit", param=param)


def refuse_declared(request: web.Request, limit: int, what: str, setting: str) -> None:
    """Refuse a body whose ``Content-Length`` is over ``limit``, before reading any of it."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(what, limit, setting)


def check_received(request: web.Request, limit: int, what: str, setting: str) -> None:
    """Refuse a body of which more than ``limit`` bytes have arrived (chunked bodies included)."""
    if request.content.total_bytes > limit:
        raise too_large(what, limit, setting)


async def read_body(request: web.Request, limit: int, what: str, setting: str) -> bytearray:
    """The whole body, refused (413) as soon as it is known to be over ``limit`` bytes."""
    refuse_declared(request, limit, what, setting)
    body = bytearray()
    while chunk := await request.content.readany():
        body += chunk
        if len(body) > limit:
            raise too_large(what, limit, setting)
    return body
