"""Building gateways for tests without entry points, environment or real sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from .._gateway import Gateway
from .._plugins import make_plugin_manager
from .._settings import Settings

__all__ = ["FakeSleep", "build_gateway", "opened_gateway", "temp_settings"]


class FakeSleep:
    """An ``asyncio.sleep`` stand-in that records delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def temp_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings with storage and spool under ``tmp_path``; keyword sections override."""
    storage = {"local": {"root": str(tmp_path / "images")}, "spool_dir": str(tmp_path / "spool")}
    storage.update(overrides.pop("storage", {}))
    return Settings(storage=storage, **overrides)


def build_gateway(settings: Settings, *plugins: tuple[str, ModuleType | object], sleep: Any = None,
                  local_storage: bool = True) -> Gateway:
    """A gateway with the built-ins, local storage (when installed) and the given plugins."""
    pm = make_plugin_manager(entrypoints=False)
    if local_storage:
        try:
            import imagegate_storage_local
        except ImportError:
            pass
        else:
            pm.register(imagegate_storage_local, name="storage-local")
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return Gateway(settings, pm, sleep=sleep)


@asynccontextmanager
async def opened_gateway(settings: Settings, *plugins: tuple[str, ModuleType | object],
                         **options: Any) -> AsyncIterator[Gateway]:
    """:func:`build_gateway`, opened, and closed afterwards even when the test fails."""
    gateway = build_gateway(settings, *plugins, **options)
    await gateway.open()
    try:
        yield gateway
    finally:
        await gateway.aclose()


async def add_virtual_key(gateway: Gateway, name: str, **limits: Any) -> str:
    """Add virtual key ``name`` (as ``imagegate keys create`` does, with ``limits`` such as
    ``budget_usd``, ``models`` or ``admin``) to the gateway's key store; return its secret."""
    from .._keys import VirtualKey

    secret, key = VirtualKey.new(name, **limits)
    await gateway.keys.store.add(key)
    return secret
