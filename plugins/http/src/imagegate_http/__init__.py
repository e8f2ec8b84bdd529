"""OpenAI-compatible HTTP front-end: ``imagegate serve http [--host 127.0.0.1] [--port 8080]``.

Any program written for OpenAI's Images API works against it by changing only its base URL::

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="a key from GATEWAY__API_KEYS")
    image = client.images.generate(model="placeholder", prompt="a lighthouse", size="512x512")

Every model of every installed provider plugin is reachable; errors come in OpenAI's envelope.
See the README for the endpoints and the ``GATEWAY__*`` variables it reads.
"""

from __future__ import annotations

from typing import Any

from imagegate import hookimpl


@hookimpl
def serve_subcommand(serve: Any) -> None:
    import click

    @serve.command("http")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8080, show_default=True, type=int, help="Port (0: any free port).")
    def http(host: str, port: int) -> None:
        """Serve the OpenAI-compatible HTTP API (stops gracefully on SIGTERM)."""
        from .server import serve_http

        serve_http(host, port)


@hookimpl
def register_settings(register: Any) -> None:
    from .settings import HttpSettings

    register.add_section("gateway", HttpSettings)
