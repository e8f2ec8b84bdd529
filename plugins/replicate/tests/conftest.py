"""Fixtures: Replicate's spec, the loopback fake, and gateways wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

SPECS = Path(__file__).resolve().parents[3] / "specs"
SPEC_PATH = SPECS / "replicate.predictions.openapi.json"


@pytest.fixture
def spec_path() -> Path:
    return SPEC_PATH


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def fake_sleep(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleep


@pytest.fixture
async def fake() -> AsyncIterator[Any]:
    from imagegate_replicate.testing import FakeReplicate

    async with FakeReplicate(spec_path=SPEC_PATH) as server:
        yield server


@pytest.fixture
async def make_gateway(tmp_path: Path, fake_sleep: Any) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``await make_gateway(base_url, **replicate_settings)`` -> an opened Gateway, closed after the test."""
    import imagegate_replicate
    import imagegate_storage_local
    from imagegate._gateway import Gateway
    from imagegate._plugins import make_plugin_manager
    from imagegate._settings import Settings

    opened: list[Any] = []

    async def build(base_url: str, **extra: Any) -> Any:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_replicate, name="replicate")
        pm.register(imagegate_storage_local, name="storage-local")
        section = {"api_token": "r8_test", "base_url": base_url, "max_retries": 1, "poll_interval_s": 0.01,
                   "poll_max_interval_s": 0.02, **extra}
        settings = Settings(providers={"replicate": section},
                            storage={"local": {"root": str(tmp_path / "images")}, "spool_dir": str(tmp_path / "spool")})
        gateway = Gateway(settings, pm, sleep=fake_sleep)
        await gateway.open()
        opened.append(gateway)
        return gateway

    try:
        yield build
    finally:
        for gateway in opened:
            await gateway.aclose()
