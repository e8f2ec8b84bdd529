"""The installed entry point is found, and it contributes ``imagegate serve http``."""

from __future__ import annotations

import click

from imagegate.plugins import make_plugin_manager, plugin_infos


def test_entry_point_is_discovered() -> None:
    infos = {info.name: info for info in plugin_infos(make_plugin_manager())}
    assert "http" in infos
    assert infos["http"].distribution == "imagegate-http"
    assert infos["http"].error is None
    assert "serve_subcommand" in infos["http"].hooks


def test_serve_subcommand_adds_http_with_host_and_port() -> None:
    import imagegate_http

    serve = click.Group("serve")
    imagegate_http.serve_subcommand(serve=serve)
    command = serve.commands["http"]
    options = {param.name: param.default for param in command.params}
    assert options == {"host": "127.0.0.1", "port": 8080}


def test_modules_import_cleanly() -> None:
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("app", "auth", "answers", "cors", "envelope", "keys", "multipart", "openapi", "options",
                     "routes", "server", "sse", "testing", "translate", "views.files", "views.health",
                     "views.images", "views.models"):
            assert importlib.import_module(f"imagegate_http.{name}")
