"""The ``observability`` settings section (``OBSERVABILITY__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ObservabilitySettings"]


class ObservabilitySettings(BaseModel):
    """What the plugin reads from ``settings.observability``; tracing itself follows ``OTEL_*``."""

    model_config = ConfigDict(extra="forbid")

    metrics_port: int | None = Field(
        None, ge=0, le=65535,
        description="Serve /metrics on this port for the MCP and CLI front-ends (0: any free port).")
    metrics_host: str = Field(
        "127.0.0.1", description="Address the metrics port binds to; 0.0.0.0 to let other hosts scrape.")
    log_requests: bool = Field(True, description="Write one JSON event per request to stderr.")
