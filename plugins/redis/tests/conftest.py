"""A real redis-server for the session (each test gets its own key prefix), and gateways on it."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from imagegate_redis.testing import RedisServer

_PREFIXES = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("redis-server") is None:
        skip = pytest.mark.skip(reason="redis-server is not installed (Debian package redis-server; `make tools`)")
        for item in items:
            if "redis_server" in getattr(item, "fixturenames", ()) or "own_redis" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of the test's own, which the test may stop and start again."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"test{next(_PREFIXES)}:"


@pytest.fixture
async def make_gateway(tmp_path: Path) -> AsyncIterator[Any]:
    """Open gateways with the openai, storage-local and redis plugins (no entry points); closed after."""
    import imagegate_openai
    import imagegate_redis
    import imagegate_storage_local
    from imagegate import Gateway, Settings
    from imagegate._plugins import make_plugin_manager

    opened: list[Any] = []

    async def build(redis_url: str, prefix: str, *, name: str = "a", openai: dict[str, Any] | None = None,
                    jobs: dict[str, Any] | None = None, **sections: Any) -> Any:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_openai, name="openai")
        pm.register(imagegate_storage_local, name="storage-local")
        pm.register(imagegate_redis, name="redis")
        settings = Settings(
            providers={"openai": {"api_key": "sk-test", "max_retries": 0, **(openai or {})}},
            storage={"local": {"root": str(tmp_path / "images")}, "spool_dir": str(tmp_path / name / "spool")},
            jobs={"backend": "redis", **(jobs or {})}, redis={"url": redis_url, "prefix": prefix},
            **sections)
        gateway = Gateway(settings, pm)
        opened.append(gateway)
        return await gateway.open()

    yield build
    for gateway in opened:
        await gateway.aclose()
