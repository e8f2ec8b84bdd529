"""The installed entry point is found, and it contributes ``imagegate serve http``."""

from __future__ import annotations

import click

from imagegate.testing import assert_discovered, assert_modules_import


def test_entry_point_is_discovered() -> None:
    assert_discovered("http", "imagegate-http", {"serve_subcommand"})


def test_serve_subcommand_adds_http_with_host_and_port() -> None:
    import imagegate_http

    serve = click.Group("serve")
    imagegate_http.serve_subcommand(serve=serve)
    command = serve.commands["http"]
    options = {param.name: param.default for param in command.params}
    assert options == {"host": "127.0.0.1", "port": 8080}


def test_modules_import_cleanly() -> None:
    assert "imagegate_http.views.images" in assert_modules_import("imagegate_http")
