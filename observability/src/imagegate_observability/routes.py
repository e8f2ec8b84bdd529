"""``GET /metrics`` on the HTTP front-end's aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from .metrics import Metrics

__all__ = ["add_metrics_route"]


def add_metrics_route(app: web.Application, metrics: Metrics) -> None:
    """Serve ``metrics`` at ``/metrics`` (no gateway key needed, per the contract)."""
    from aiohttp import web

    from .metrics import exposition

    async def metrics_view(request: web.Request) -> web.Response:
        body, content_type = exposition(metrics.registry, request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/metrics", metrics_view, name="metrics")
