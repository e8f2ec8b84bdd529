"""One assertion every plugin's tests make: the installed entry point is found and loads cleanly."""

from __future__ import annotations

from typing import Any

__all__ = ["assert_discovered", "assert_modules_import"]


def assert_discovered(name: str, distribution: str, hooks: set[str] | frozenset[str] = frozenset()) -> Any:
    """Assert that the plugin ``name`` of ``distribution`` is discovered through the ``imagegate``
    entry-point group, loaded without error and implements ``hooks``; return its info."""
    from .._plugins import make_plugin_manager, plugin_infos

    infos = {info.name: info for info in plugin_infos(make_plugin_manager())}
    assert name in infos, f"plugin {name!r} not discovered; found: {sorted(infos)}"
    info = infos[name]
    assert info.distribution == distribution, f"{name} comes from {info.distribution}, not {distribution}"
    assert info.error is None, f"{name} failed to load: {info.error}"
    missing = set(hooks) - set(info.hooks)
    assert not missing, f"{name} does not implement {sorted(missing)}"
    return info


def assert_modules_import(package: str) -> list[str]:
    """Import every module of ``package`` with warnings as errors; each must have a docstring.
    Return the module names (so a test can also check a module it expects is there)."""
    import importlib
    import pkgutil
    import warnings

    root = importlib.import_module(package)
    names = [package] + [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in names:
            module = importlib.import_module(name)
            assert module.__doc__, f"{name} has no docstring"
    return names
