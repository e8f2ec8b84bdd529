"""MCP front-end: ``imagegate serve mcp [--transport stdio|streamable-http] [--host] [--port]``.

Tools: ``generate_image``, ``edit_image``, ``create_variation``, ``list_available_models``, and
the per-model tools the providers' catalogs declare (``ToolHint``: ``generate-openai``,
``generate-fluxdev``, ...), for providers with a key (``MCP__OFFER_UNCONFIGURED``). Every
generating tool takes ``deliver: link | preview | full`` (default ``MCP__DELIVER``, caps
``MCP__PREVIEW_MAX_BYTES`` and ``MCP__INLINE_MAX_BYTES``). Stored images are resources at
``imagegate://images/{id}``. Streamable HTTP is served at ``/mcp`` (both protocol eras; a bearer
key when ``GATEWAY__API_KEYS`` is set) with signed file links at ``/files/{id}``. On stdio, logs go
to stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import hookimpl

if TYPE_CHECKING:
    import click
    from imagegate import SettingsRegistry


@hookimpl
def serve_subcommand(serve: click.Group) -> None:
    import click

    @serve.command(name="mcp")
    @click.option("--transport", type=click.Choice(["stdio", "streamable-http"]), default="stdio",
                  show_default=True, help="stdio for desktop clients; streamable-http serves /mcp.")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address for streamable-http.")
    @click.option("--port", type=int, default=8000, show_default=True, help="Port for streamable-http.")
    def mcp(transport: str, host: str, port: int) -> None:
        """Serve the image tools over MCP (stdio or streamable HTTP)."""
        from .cli import run

        run(transport, host, port)


@hookimpl
def register_settings(register: SettingsRegistry) -> None:
    from .settings import MCPSettings

    register.add_section("mcp", MCPSettings)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from .host_config import attach

    attach(cli)
