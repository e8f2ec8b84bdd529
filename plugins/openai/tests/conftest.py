"""Fixtures for the OpenAI plugin's tests: the spec, a recording sleep, gateways and the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from imagegate_openai.testing import REQUEST_SCHEMAS, SPEC_FILE, FakeOpenAI, SpecValidator

from .support import API_KEY, BASE_URL, SPECS


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return SPECS / SPEC_FILE


@pytest.fixture(scope="session")
def validator(spec_path: Path) -> SpecValidator:
    return SpecValidator(spec_path)


class Sleeps:
    """Delays the gateway asked to sleep, without sleeping (not a list: an empty one is falsy,
    and the gateway takes a falsy ``sleep`` to mean asyncio.sleep)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def fake_sleep() -> Sleeps:
    return Sleeps()


GatewayFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_gateway(tmp_path: Path, fake_sleep: Sleeps) -> AsyncIterator[GatewayFactory]:
    """Build opened gateways with only the openai and storage-local plugins; closed afterwards."""
    import imagegate_storage_local

    import imagegate_openai
    from imagegate import Gateway, Settings
    from imagegate._plugins import make_plugin_manager

    opened: list[Any] = []

    async def build(base_url: str = BASE_URL, *, plugins: tuple[Any, ...] = (), **openai: Any) -> Any:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_openai, name="openai")
        pm.register(imagegate_storage_local, name="storage-local")
        for plugin in plugins:
            pm.register(plugin)
        section = {"api_key": API_KEY, "base_url": base_url, "max_retries": 1, **openai}
        settings = Settings(providers={"openai": section},
                            storage={"local": {"root": str(tmp_path / "images")},
                                     "spool_dir": str(tmp_path / "spool")})
        gateway = Gateway(settings, pm, sleep=fake_sleep)
        await gateway.open()
        opened.append(gateway)
        return gateway

    yield build
    for gateway in opened:
        await gateway.aclose()


@pytest.fixture(scope="session")
def request_schemas() -> Path:
    return SPECS / REQUEST_SCHEMAS


@pytest.fixture
async def fake(request_schemas: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(request_schemas=request_schemas, api_key=API_KEY) as server:
        yield server

