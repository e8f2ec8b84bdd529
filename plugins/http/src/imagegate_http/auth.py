"""Bearer-key authentication and per-key request rates for the ``/v1`` routes.

Keys are checked by :class:`imagegate._bearer.BearerCheck`, as over MCP: in constant time, and an
address with too many failed attempts is answered 429 without its key being checked. The address
is the connecting peer's, or, when that peer is one of ``GATEWAY__TRUSTED_PROXIES``, the client it
names in ``X-Forwarded-For`` (:class:`~imagegate.frontend.TrustedProxies`). The rate limit is a
sliding 60-second window per key (per client address when no keys are configured) and answers 429
with ``Retry-After``; it is counted where the gateway counts virtual keys' rates (in Redis, for
every replica together, with ``JOBS__BACKEND=redis``), under names no virtual key can have.
Health, metrics, the OpenAPI document, the ``/gallery`` page (it holds no data) and signed
``/files`` URLs need no key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from imagegate import Caller, RateLimited
from imagegate.frontend import TrustedProxies

from .keys import CALLER

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from imagegate.frontend import BearerCheck

__all__ = ["RATE_PREFIX", "bearer_auth", "is_protected"]

RATE_PREFIX = "http:"
"""What the HTTP rate's names start with among the key rates (a key name cannot hold ``:``)."""


def is_protected(path: str) -> bool:
    """Whether a path needs the gateway key (everything under ``/v1``)."""
    return path == "/v1" or path.startswith("/v1/")


def bearer_auth(check: BearerCheck, rpm: int | None, keys: Any, proxies: TrustedProxies | None = None) -> Any:
    """Middleware checking ``Authorization: Bearer <key>`` (through ``check``, with the gateway's
    virtual ``keys``, from the client ``proxies`` name) and the per-key rate, counted by the
    gateway's key rates (in this process, or shared by the replicas when its store keeps them); it
    keeps the :class:`~imagegate.Caller` on the request."""
    proxies = proxies or TrustedProxies()

    async def check_rate(identity: str) -> None:
        if rpm is None:
            return
        wait = await keys.rates.take_start(RATE_PREFIX + identity, rpm)
        if wait:
            msg = f"more than {rpm} requests per minute for this key (GATEWAY__RATE_LIMIT_RPM); retry in {wait:.0f} s"
            raise RateLimited(msg, retry_after=round(wait, 3))

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or not is_protected(request.path):
            return await handler(request)
        client = proxies.client(request.remote, request.headers.getall("X-Forwarded-For", ()))
        caller = await check.caller(request.headers.get("Authorization"), client, keys)
        request[CALLER] = caller
        await check_rate(f"addr:{client}" if caller.owner == Caller().owner else caller.owner)
        return await handler(request)

    return auth
