"""A metrics port of its own, for front-ends without an HTTP app (MCP over stdio, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["MetricsServer", "start_metrics_server", "stop_metrics_server"]


@dataclass(slots=True)
class MetricsServer:
    """A running exposition server and the port it actually bound."""

    host: str
    port: int
    httpd: Any
    thread: Any

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"


def start_metrics_server(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """Serve ``registry`` on ``host:port`` in a daemon thread (port 0: any free port)."""
    from prometheus_client import start_http_server

    httpd, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(host=host, port=httpd.server_port, httpd=httpd, thread=thread)


def stop_metrics_server(server: MetricsServer) -> None:
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(timeout=5)
