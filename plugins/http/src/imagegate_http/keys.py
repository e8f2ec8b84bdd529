"""The :class:`aiohttp.web.AppKey` keys under which the app keeps its shared objects."""

from __future__ import annotations

from aiohttp import web

from imagegate import Gateway

from .options import HttpOptions

__all__ = ["GATEWAY", "OPTIONS"]

GATEWAY = web.AppKey("gateway", Gateway)
OPTIONS = web.AppKey("options", HttpOptions)
