"""The installed entry point is found and adds ``imagegate serve mcp``."""

from __future__ import annotations

import click
from imagegate.plugins import make_plugin_manager, plugin_infos


def test_entry_point_is_discovered() -> None:
    infos = {info.name: info for info in plugin_infos(make_plugin_manager())}
    assert "mcp" in infos
    assert infos["mcp"].distribution == "imagegate-mcp"
    assert infos["mcp"].error is None
    assert "serve_subcommand" in infos["mcp"].hooks


def test_serve_mcp_command_is_added() -> None:
    import imagegate_mcp

    serve = click.Group("serve")
    imagegate_mcp.serve_subcommand(serve=serve)
    command = serve.commands["mcp"]
    options = {param.name: param for param in command.params}
    assert set(options) == {"transport", "host", "port"}
    assert list(options["transport"].type.choices) == ["stdio", "streamable-http"]
