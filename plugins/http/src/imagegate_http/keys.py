"""The :class:`aiohttp.web.AppKey` keys under which the app keeps its shared objects."""

from __future__ import annotations

from aiohttp import web

from imagegate import Caller, Gateway

from .options import HttpOptions

__all__ = ["CALLER", "GATEWAY", "OPTIONS", "caller_of"]

GATEWAY = web.AppKey("gateway", Gateway)
OPTIONS = web.AppKey("options", HttpOptions)
CALLER = web.RequestKey("caller", Caller)
"""Where a request keeps the :class:`~imagegate.Caller` the auth middleware found."""


def caller_of(request: web.Request) -> Caller:
    """Who sent ``request`` (the local owner on routes that need no key)."""
    return request.get(CALLER) or Caller()
