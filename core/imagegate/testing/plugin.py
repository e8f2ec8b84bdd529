"""The pytest plugin (entry point ``pytest11``): fixtures for testing imagegate and its plugins.

It imports nothing heavy when pytest starts (gateway, pydantic and aiohttp load inside the
fixtures), and it works without pytest-asyncio: the async fixtures exist only when pytest-asyncio
is installed, so a project that has imagegate but not pytest-asyncio can still run pytest.

Fixtures (all prefixed ``imagegate_`` so they never shadow a project's own):

* ``imagegate_settings``: settings whose storage root and spool are temporary folders;
* ``imagegate_fake_sleep``: records back-off delays instead of sleeping;
* ``imagegate_gateway``: an opened gateway on the placeholder provider and local storage;
* ``imagegate_make_gateway``: ``await make(plugin, ..., providers={...})`` builds opened gateways
  with exactly the given plugins (plus local storage), all closed after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .._gateway import Gateway
    from .._settings import Settings
    from .factories import FakeSleep


@pytest.fixture
def imagegate_settings(tmp_path: Path) -> Settings:
    """Settings whose storage root and spool are temporary folders."""
    from .factories import temp_settings

    return temp_settings(tmp_path)


@pytest.fixture
def imagegate_fake_sleep() -> FakeSleep:
    """Records back-off delays instead of sleeping."""
    from .factories import FakeSleep

    return FakeSleep()


try:
    import pytest_asyncio
except ImportError:  # the async fixtures need it; everything else works without
    pytest_asyncio = None

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def imagegate_gateway(imagegate_settings: Settings, imagegate_fake_sleep: FakeSleep) -> AsyncIterator[Gateway]:
        """An opened gateway with the placeholder provider and local storage; closed afterwards."""
        from .factories import build_gateway

        gateway = build_gateway(imagegate_settings, sleep=imagegate_fake_sleep)
        await gateway.open()
        try:
            yield gateway
        finally:
            await gateway.aclose()

    @pytest_asyncio.fixture
    async def imagegate_make_gateway(
        tmp_path: Path, imagegate_fake_sleep: FakeSleep,
    ) -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
        """A factory of opened gateways with the given plugins; every one is closed afterwards."""
        from .factories import build_gateway, temp_settings

        opened: list[Gateway] = []

        async def make(*plugins: Any, settings: Settings | None = None, **sections: Any) -> Gateway:
            named = [plugin if isinstance(plugin, tuple) else (_plugin_name(plugin), plugin) for plugin in plugins]
            gateway = build_gateway(settings or temp_settings(tmp_path / f"gw{len(opened)}", **sections), *named,
                                    sleep=imagegate_fake_sleep)
            await gateway.open()
            opened.append(gateway)
            return gateway

        try:
            yield make
        finally:
            for gateway in opened:
                await gateway.aclose()


def _plugin_name(plugin: Any) -> str:
    name = getattr(plugin, "__name__", type(plugin).__name__)
    return name.removeprefix("imagegate_").replace("_", "-")
