"""The installed entry point is found and adds ``imagegate serve mcp``."""

from __future__ import annotations

import click
from imagegate.testing import assert_discovered


def test_entry_point_is_discovered() -> None:
    assert_discovered("mcp", "imagegate-mcp", {"serve_subcommand"})


def test_serve_mcp_command_is_added() -> None:
    import imagegate_mcp

    serve = click.Group("serve")
    imagegate_mcp.serve_subcommand(serve=serve)
    command = serve.commands["mcp"]
    options = {param.name: param for param in command.params}
    assert set(options) == {"transport", "host", "port"}
    assert list(options["transport"].type.choices) == ["stdio", "streamable-http"]
