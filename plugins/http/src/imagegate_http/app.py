"""``create_app(gateway)``: the aiohttp application of the HTTP front-end.

Shared objects live on the app under :class:`aiohttp.web.AppKey` keys; middlewares come from
small factories (CORS preflight, error envelope, bearer auth); plugins add routes such as
``/metrics`` through the ``register_routes`` hook. Tests pass an opened gateway; ``imagegate
serve http`` passes ``open_on_startup=True`` so the gateway is opened and closed (after requests
in flight have finished) in the app's ``cleanup_ctx``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from .auth import bearer_auth
from .cors import install_cors
from .envelope import error_middleware
from .job_answers import job_body
from .keys import GATEWAY, OPTIONS
from .options import HttpOptions
from .routes import add_routes

if TYPE_CHECKING:
    from imagegate import Gateway

__all__ = ["GATEWAY", "OPTIONS", "create_app"]


async def _gateway_lifetime(app: web.Application) -> AsyncIterator[None]:
    gateway = app[GATEWAY]
    await gateway.open()
    try:
        yield
    finally:
        await gateway.aclose()


def create_app(gateway: Gateway, *, options: HttpOptions | None = None,
               open_on_startup: bool = False) -> web.Application:
    """The application serving ``gateway``; ``options`` default to the gateway's settings."""
    options = options or HttpOptions.from_settings(gateway.settings)
    app = web.Application(
        client_max_size=options.max_body_bytes,
        middlewares=[error_middleware(), bearer_auth(options.bearer_check(), options.rate_limit_rpm, gateway.keys,
                                                     options.proxies())],
    )
    app[GATEWAY] = gateway
    app[OPTIONS] = options
    install_cors(app, options.cors_origins)
    add_routes(app)
    gateway.webhooks.add_renderer("http", partial(job_body, gateway))  # a webhook body is what GET answers
    gateway.pm.hook.register_routes(app=app, gateway=gateway)
    if open_on_startup:
        app.cleanup_ctx.append(_gateway_lifetime)
    return app
