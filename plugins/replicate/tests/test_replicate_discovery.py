"""The installed entry point is found, and every module imports cleanly."""

from __future__ import annotations

import importlib
import warnings

import pytest


def test_entry_point_is_listed() -> None:
    from imagegate.plugins import make_plugin_manager, plugin_infos

    infos = {info.name: info for info in plugin_infos(make_plugin_manager())}
    assert "replicate" in infos
    assert infos["replicate"].distribution == "imagegate-replicate"
    assert infos["replicate"].error is None
    assert "register_providers" in infos["replicate"].hooks


@pytest.mark.parametrize("module", ["api", "catalog", "errors", "fake_schemas", "outputs", "predictions",
                                    "provider", "schema", "settings", "testing"])
def test_modules_import_without_warnings(module: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module(f"imagegate_replicate.{module}")


def test_models_registered_under_short_and_qualified_ids() -> None:
    import imagegate_replicate
    from imagegate.registry import ProviderRegistry
    from imagegate.settings import Settings

    registry = ProviderRegistry()
    imagegate_replicate.register_providers(register=registry, settings=Settings())
    assert registry.lookup("replicate/black-forest-labs/flux-dev").id == "flux-dev"
    assert registry.lookup("replicate/black-forest-labs/flux-1.1-pro").id == "flux-1.1-pro"
    assert registry.lookup("replicate/recraft-ai/recraft-v3-svg").id == "recraft-v3-svg"
    assert registry.providers["replicate"].cancellable is True


def test_disabled_provider_registers_nothing() -> None:
    import imagegate_replicate
    from imagegate.registry import ProviderRegistry
    from imagegate.settings import Settings

    registry = ProviderRegistry()
    imagegate_replicate.register_providers(register=registry, settings=Settings(providers={"replicate": {"enabled": False}}))
    assert registry.models == {}
    assert registry.providers == {}
