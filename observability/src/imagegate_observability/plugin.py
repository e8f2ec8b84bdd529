"""The plugin as an object, for applications and tests that inject their own OpenTelemetry
tracer provider or Prometheus registry (the installed entry point is the module itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import hookimpl

from . import hooks

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from aiohttp import web
    from imagegate import Event, Gateway, Middleware
    from prometheus_client import CollectorRegistry

    from .metrics import Metrics
    from .telemetry import Telemetry

__all__ = ["ObservabilityPlugin"]


class ObservabilityPlugin:
    """``pm.register(ObservabilityPlugin(tracer_provider=tp, registry=reg), name="observability")``.

    Every gateway this instance serves shares its tracer provider and its metrics registry.
    """

    def __init__(self, *, tracer_provider: Any = None, registry: CollectorRegistry | None = None) -> None:
        self.tracer_provider = tracer_provider
        self._registry = registry
        self._metrics: Metrics | None = None

    @property
    def metrics(self) -> Metrics:
        if self._metrics is None:
            from .metrics import Metrics

            self._metrics = Metrics(self._registry)
        return self._metrics

    def telemetry(self, gateway: Gateway) -> Telemetry:
        from .telemetry import Telemetry, telemetry_for

        return telemetry_for(gateway, lambda gw: Telemetry(
            gw, tracer_provider=self.tracer_provider, metrics=self.metrics))

    @hookimpl
    def step_middleware(self, gateway: Gateway) -> Middleware:
        return self.telemetry(gateway).middleware

    @hookimpl
    def track_event(self, gateway: Gateway, event: Event) -> None:
        self.telemetry(gateway).on_event(event)

    @hookimpl
    def register_routes(self, app: web.Application, gateway: Gateway) -> None:
        hooks.register_routes(self.telemetry(gateway), app)

    @hookimpl
    def startup(self, gateway: Gateway) -> None:
        hooks.startup(self.telemetry(gateway))

    @hookimpl
    def shutdown(self, gateway: Gateway) -> Awaitable[None]:
        return hooks.shutdown(self.telemetry(gateway))
