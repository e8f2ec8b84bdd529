"""Building the plugin manager: hook specs, built-in plugins, entry points, and failure isolation.

There is no module-level manager: :func:`make_plugin_manager` builds one, and tests build one with
exactly the plugins they need. Entry points of the group ``imagegate`` are loaded one by one; one
that fails to import is recorded (``imagegate plugins`` shows it) and the rest still load.
``IMAGEGATE_DISABLE_PLUGINS`` (comma list of short names, built-ins included) switches plugins off.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import hookspecs

__all__ = ["BUILTIN_PLUGINS", "PluginInfo", "await_each", "call_each", "load_failures", "make_plugin_manager",
           "plugin_infos"]

log = logging.getLogger("imagegate.plugins")

GROUP = "imagegate"

BUILTIN_PLUGINS: dict[str, str] = {"placeholder": "imagegate._default_plugins.placeholder",
                                   "retention": "imagegate._default_plugins.retention"}
"""Short name -> module of plugins the core registers itself (never entry points)."""


@dataclass(slots=True)
class PluginInfo:
    """What ``imagegate plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    builtin: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "error": self.error,
            "builtin": self.builtin,
        }


def disabled_plugins() -> set[str]:
    raw = os.environ.get("IMAGEGATE_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def make_plugin_manager(*, entrypoints: bool = True, builtins: bool = True,
                        report: bool = True) -> pluggy.PluginManager:
    """A manager with the hook specs, the built-in plugins and the installed entry points
    (``report=False``: a plugin that fails to load is recorded but not logged)."""
    pm = pluggy.PluginManager("imagegate")
    pm.add_hookspecs(hookspecs)
    pm.imagegate_infos = {}  # type: ignore[attr-defined]
    disabled = disabled_plugins()
    if builtins:
        for name, module_name in BUILTIN_PLUGINS.items():
            if name in disabled:
                continue
            module = importlib.import_module(module_name)
            pm.register(module, name=name)
            _infos(pm)[name] = PluginInfo(name, "imagegate", _version("imagegate"), builtin=True)
    if entrypoints:
        _load_entrypoints(pm, disabled, report)
    for name, info in _infos(pm).items():
        plugin = pm.get_plugin(name)
        if plugin is not None:
            info.hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
    return pm


def _load_entrypoints(pm: pluggy.PluginManager, disabled: set[str], report: bool) -> None:
    for ep in entry_points(group=GROUP):
        if ep.name in disabled or pm.has_plugin(ep.name):
            continue
        dist = ep.dist.name if ep.dist else None
        version = ep.dist.version if ep.dist else None
        info = PluginInfo(ep.name, dist, version)
        _infos(pm)[ep.name] = info
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin must not stop the others
            info.error = f"{type(exc).__name__}: {exc}"
            if report:
                log.warning("plugin %s (%s) failed to load: %s", ep.name, dist, info.error)


def _infos(pm: pluggy.PluginManager) -> dict[str, PluginInfo]:
    return pm.imagegate_infos  # type: ignore[attr-defined,no-any-return]


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every plugin the manager knows, loaded or broken, built-ins first."""
    return sorted(_infos(pm).values(), key=lambda info: (not info.builtin, info.name))


def load_failures(pm: pluggy.PluginManager) -> list[PluginInfo]:
    return [info for info in _infos(pm).values() if info.error]


def call_each(pm: pluggy.PluginManager, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call every implementation of hook ``name``, one plugin at a time; return (plugin, result)s.

    Each call goes through pluggy (so implementations get only the arguments they declare and
    hook-call monitoring sees it), but through a hook caller limited to one plugin: one that
    raises is logged and the others still run.
    """
    impls = getattr(pm.hook, name).get_hookimpls()
    plugins = [impl.plugin for impl in impls]
    results: list[tuple[str, Any]] = []
    for impl in impls:
        only = pm.subset_hook_caller(name, remove_plugins=[p for p in plugins if p is not impl.plugin])
        try:
            results.extend((impl.plugin_name, result) for result in only(**kwargs))
        except Exception:
            log.exception("%s of plugin %s failed", name, impl.plugin_name)
    return results


async def await_each(pm: pluggy.PluginManager, name: str, **kwargs: Any) -> None:
    """:func:`call_each`, then await every awaitable an implementation returned, one by one; one
    that raises is logged and the others are still awaited."""
    for plugin, result in call_each(pm, name, **kwargs):
        if inspect.isawaitable(result):
            try:
                await result
            except Exception:
                log.exception("%s of plugin %s failed", name, plugin)
