"""The tracer provider, configured by the standard ``OTEL_*`` variables.

With nothing configured, spans still get real ids (for log correlation and ``traceparent``
propagation) but nothing is exported and no exporter is imported. ``OTEL_TRACES_EXPORTER`` picks
``otlp``, ``console`` or ``none`` (comma-separated); setting ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` alone means ``otlp``. OTLP speaks ``http/protobuf``
unless ``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL=grpc``; the exporters read their own endpoint,
headers and timeout variables. ``OTEL_SDK_DISABLED=true`` turns tracing off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import TracerProvider

__all__ = ["build_tracer_provider", "exporter_names", "tracer_provider_for"]

log = logging.getLogger("imagegate.observability")

SERVICE_NAME = "imagegate"


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment asks for (empty: export nothing)."""
    raw = environ.get("OTEL_TRACES_EXPORTER")
    if raw is None or not raw.strip():
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        return ["otlp"] if endpoint else []
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    return [name for name in names if name != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter | None:
    if name == "console":
        import sys

        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # stderr, like the logs: stdout carries the CLI's --json answer and MCP's stdio protocol
        return ConsoleSpanExporter(out=sys.stderr)  # the stderr of now, not of import time
    if name == "otlp":
        protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                    or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip().lower()
        try:
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            fix = ("pip install 'imagegate-observability[otlp]'" if protocol == "grpc" else
                   "reinstall imagegate-observability (it depends on opentelemetry-exporter-otlp-proto-http)")
            log.warning("OTLP (%s) is asked for but its exporter is not installed: %s. Spans are not exported.",
                        protocol, fix)
            return None
        return OTLPSpanExporter()
    log.warning("unknown OTEL_TRACES_EXPORTER value %r ignored (use otlp, console or none)", name)
    return None


def build_tracer_provider(environ: Mapping[str, str]) -> TracerProvider:
    """A new SDK tracer provider with the exporters the environment names."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = SdkTracerProvider(resource=resource)
    for name in exporter_names(environ):
        exporter = _exporter(name, environ)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def tracer_provider_for(environ: Mapping[str, str]) -> Any:
    """The application's global provider when it set one, else one built from ``OTEL_*``.

    Never sets the global provider: an application embedding the gateway keeps control of it.
    """
    from opentelemetry import trace

    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return trace.NoOpTracerProvider()
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return current
    return build_tracer_provider(environ)
