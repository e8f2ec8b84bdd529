"""Traces, Prometheus metrics and one JSON log line per request, for every front-end and provider.

Installed, it needs no code in providers or front-ends: the gateway runs this plugin's async
middleware around each request, provider attempt, download and storage write, and tells it about
retries, stored images and finished or failed requests.

- **Traces** (OpenTelemetry): spans ``imagegate.request`` > ``imagegate.provider_attempt`` (one
  per attempt, so retries are siblings) > ``imagegate.download``, and ``imagegate.storage_write``.
  W3C ``traceparent`` is read from the inbound request and sent upstream. Export follows the
  standard ``OTEL_*`` variables (``OTEL_TRACES_EXPORTER=otlp|console|none``,
  ``OTEL_EXPORTER_OTLP_ENDPOINT``, ...); with none set nothing is exported.
- **Metrics** (Prometheus): ``GET /metrics`` on the HTTP front-end; for MCP and the CLI set
  ``OBSERVABILITY__METRICS_PORT`` (and ``OBSERVABILITY__METRICS_HOST``, default 127.0.0.1).
- **Logs**: logger ``imagegate.requests`` writes JSON lines to stderr; prompts only with
  ``LOGGING__LOG_PROMPTS=true``; keys, tokens and base64 data never.
- **Dashboard and alerts**: a Grafana dashboard and Prometheus alert rules ship in the package;
  ``imagegate observability export DIR`` writes them out.

To inject a tracer provider or a registry, register
:class:`imagegate_observability.plugin.ObservabilityPlugin` instead of this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import hookimpl

if TYPE_CHECKING:
    from collections.abc import Awaitable

    import click
    from aiohttp import web
    from imagegate import Event, Gateway, Middleware, SettingsRegistry

    from .telemetry import Telemetry


def _telemetry(gateway: Gateway) -> Telemetry:
    from .telemetry import telemetry_for

    return telemetry_for(gateway)


@hookimpl
def step_middleware(gateway: Gateway) -> Middleware:
    return _telemetry(gateway).middleware


@hookimpl
def track_event(gateway: Gateway, event: Event) -> None:
    _telemetry(gateway).on_event(event)


@hookimpl
def register_routes(app: web.Application, gateway: Gateway) -> None:
    from . import hooks

    hooks.register_routes(_telemetry(gateway), app)


@hookimpl
def startup(gateway: Gateway) -> None:
    from . import hooks

    hooks.startup(_telemetry(gateway))


@hookimpl
def shutdown(gateway: Gateway) -> Awaitable[None]:
    from . import hooks

    return hooks.shutdown(_telemetry(gateway))


@hookimpl
def register_settings(register: SettingsRegistry) -> None:
    from .config import ObservabilitySettings

    register.add_section("observability", ObservabilitySettings)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .commands import observability

    cli.add_command(observability)
