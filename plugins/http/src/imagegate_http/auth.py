"""Bearer-key authentication and per-key request rates for the ``/v1`` routes.

Keys are compared in constant time (every configured key is compared, so timing does not reveal
which prefix matched). The rate limit is a sliding 60-second window per key (per client address
when no keys are configured) and answers 429 with ``Retry-After``. Health, metrics, the OpenAPI
document and signed ``/files`` URLs need no key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from imagegate.errors import AuthenticationError, RateLimited
from imagegate.limits import SlidingWindow

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

__all__ = ["bearer_auth", "is_protected"]

WINDOW_S = 60.0


def is_protected(path: str) -> bool:
    """Whether a path needs the gateway key (everything under ``/v1``)."""
    return path == "/v1" or path.startswith("/v1/")


def _presented_key(request: web.Request) -> bytes | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode()


def bearer_auth(keys: list[str], rpm: int | None, clock: Callable[[], float] = time.monotonic) -> Any:
    """Middleware checking ``Authorization: Bearer <key>`` and the per-key rate."""
    encoded = [key.encode() for key in keys if key]
    windows: dict[str, SlidingWindow] = {}

    def identify(request: web.Request) -> str:
        if not encoded:
            return f"addr:{request.remote or 'unknown'}"
        presented = _presented_key(request)
        matched: bytes | None = None
        for key in encoded:
            if hmac.compare_digest(key, presented or b"") and presented is not None:
                matched = key
        if matched is None:
            msg = ("missing or unknown API key; send Authorization: Bearer <key> with a key from "
                   "GATEWAY__API_KEYS")
            raise AuthenticationError(msg)
        return "key:" + hashlib.sha256(matched).hexdigest()[:16]

    def check_rate(identity: str) -> None:
        if rpm is None:
            return
        wait = windows.setdefault(identity, SlidingWindow(rpm, WINDOW_S)).take(clock())
        if wait:
            msg = f"more than {rpm} requests per minute for this key (GATEWAY__RATE_LIMIT_RPM); retry in {wait:.0f} s"
            raise RateLimited(msg, retry_after=round(wait, 3))

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or not is_protected(request.path):
            return await handler(request)
        if encoded or rpm is not None:
            check_rate(identify(request))
        return await handler(request)

    return auth
