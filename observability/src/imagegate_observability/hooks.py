"""What the hooks do, shared by the module plugin and :class:`~.plugin.ObservabilityPlugin`."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from .telemetry import Telemetry

__all__ = ["register_routes", "shutdown", "startup"]

log = logging.getLogger("imagegate.observability")


def register_routes(telemetry: Telemetry, app: web.Application) -> None:
    from .routes import add_metrics_route

    add_metrics_route(app, telemetry.metrics)


def startup(telemetry: Telemetry) -> None:
    """Open the metrics port when ``OBSERVABILITY__METRICS_PORT`` is set (once per gateway)."""
    from .server import start_metrics_server

    config = telemetry.config
    if config.metrics_port is None or telemetry.metrics_server is not None:
        return
    try:
        telemetry.metrics_server = start_metrics_server(telemetry.metrics.registry, config.metrics_host,
                                                        config.metrics_port)
    except OSError as exc:
        from imagegate import InvalidRequest

        msg = (f"OBSERVABILITY__METRICS_PORT={config.metrics_port}: cannot listen on "
               f"{config.metrics_host}:{config.metrics_port} ({exc.strerror or type(exc).__name__})")
        raise InvalidRequest(msg, param="OBSERVABILITY__METRICS_PORT") from None
    log.info("metrics served at %s", telemetry.metrics_server.url)


async def shutdown(telemetry: Telemetry) -> None:
    """Stop the metrics port and export pending spans (in a thread: both block)."""
    await asyncio.to_thread(telemetry.close)
