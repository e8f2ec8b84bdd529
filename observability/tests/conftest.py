"""Fixtures for the observability tests: an in-memory span exporter, gateways with the flaky
provider and failing storage of ``support.py``, and a loopback download server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from imagegate._gateway import Gateway
from imagegate._plugins import make_plugin_manager
from imagegate._settings import Settings
from imagegate.testing import FakeSleep, image_bytes

from .support import GATEWAY_KEY, SECRET, FailingStoragePlugin, FlakyPlugin, FlakyProvider


@pytest.fixture
def spans() -> Any:
    """An in-memory exporter behind a tracer provider injected into the plugin."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    exporter.tracer_provider = provider
    yield exporter
    provider.shutdown()


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest_asyncio.fixture
async def make_gateway(tmp_path: Path, spans: Any) -> AsyncIterator[GatewayFactory]:
    """Build opened gateways with placeholder, local storage, the flaky provider and this plugin;
    every one is closed (which stops its metrics port) at teardown, even when the test fails."""
    from imagegate_observability.plugin import ObservabilityPlugin
    import imagegate_storage_local

    built: list[Gateway] = []

    async def factory(provider: FlakyProvider | None = None, *, max_retries: int = 3, storage: str = "local",
                      plugin: Any = None, sleep: FakeSleep | None = None, **settings: Any) -> Gateway:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_storage_local, name="storage-local")
        pm.register(FailingStoragePlugin(), name="storage-failing")
        provider = provider or FlakyProvider()
        pm.register(FlakyPlugin(provider), name="flaky")
        pm.register(plugin or ObservabilityPlugin(tracer_provider=spans.tracer_provider), name="observability")
        config = Settings(
            storage={"backend": storage, "local": {"root": str(tmp_path / "images")},
                     "spool_dir": str(tmp_path / "spool")},
            providers={"flaky": {"max_retries": max_retries, "api_key": SECRET,
                                 "base_url": provider.download_url}},  # its loopback outputs are its own
            gateway={"api_keys": [GATEWAY_KEY]}, **settings)
        gateway = Gateway(config, pm, sleep=sleep or FakeSleep())
        built.append(gateway)
        await gateway.open()
        return gateway

    yield factory
    for gateway in built:
        await gateway.aclose()


@pytest_asyncio.fixture
async def download_server() -> AsyncIterator[dict[str, Any]]:
    """A loopback server answering ``/image.png`` with a PNG and recording request headers."""
    state: dict[str, Any] = {"headers": [], "data": image_bytes(40, 40)}

    async def image(request: web.Request) -> web.Response:
        state["headers"].append(dict(request.headers))
        return web.Response(body=state["data"], content_type="image/png")

    app = web.Application()
    app.router.add_get("/image.png", image)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        state["url"] = f"http://127.0.0.1:{port}/image.png"
        yield state
    finally:
        await runner.cleanup()
