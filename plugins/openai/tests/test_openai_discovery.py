"""The installed entry point is found, and importing the plugin has no side effects."""

from __future__ import annotations

from imagegate.plugins import make_plugin_manager, plugin_infos


def test_entry_point_is_discovered() -> None:
    pm = make_plugin_manager()
    infos = {info.name: info for info in plugin_infos(pm)}
    assert "openai" in infos
    info = infos["openai"]
    assert info.distribution == "imagegate-openai"
    assert info.error is None
    assert "register_providers" in info.hooks


def test_modules_import_cleanly() -> None:
    import importlib

    for name in ("catalog", "images_api", "provider", "responses_api", "results", "settings", "testing",
                 "transport", "upstream_errors"):
        module = importlib.import_module(f"imagegate_openai.{name}")
        assert module.__doc__
