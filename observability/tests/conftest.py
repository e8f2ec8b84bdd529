"""Fixtures for the observability tests: an in-memory span exporter, a flaky provider plugin that
knows nothing of observability, a storage backend that fails, and a loopback download server."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from imagegate import hookimpl
from imagegate.catalog import ModelSpec, ParamSpec, Pricing, PriceRule, SizeSpec
from imagegate.errors import UpstreamError
from imagegate.gateway import Gateway
from imagegate.plugins import make_plugin_manager
from imagegate.provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult
from imagegate.settings import Settings
from imagegate.testing import FakeSleep

SECRET = "sk-obs-test-Secret-1f2e3d4c5b6a7988"
"""A provider key; it must never show up in a log line, span or exported error."""
GATEWAY_KEY = "gw-key-Obs-77aa88bb99cc"
B64 = base64.b64encode(os.urandom(900)).decode()
"""Image-like base64 data (1200 chars); it must never show up either."""
UPSTREAM_MESSAGE = f"upstream 502 for key {SECRET}: echo data:image/png;base64,{B64}"


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 200, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def flaky_spec() -> ModelSpec:
    return ModelSpec(
        id="flaky-model", provider="flaky", upstream="flaky-model", n_max=4,
        sizes=SizeSpec(min_side=16, max_side=256, multiple_of=1), default_size="32x32",
        params={"quality": ParamSpec(enum=["low", "high"], description="Quality.")},
        pricing=Pricing(per_image=[PriceRule(usd=0.04)]),
    )


class FlakyProvider(BaseProvider):
    """Fails ``failures`` times with UpstreamError (its message leaks a key and base64), then
    answers; with ``download_url`` it fetches its image through the gateway's download."""

    name = "flaky"
    cancellable = True

    def __init__(self, failures: int = 0, download_url: str | None = None) -> None:
        self.failures = failures
        self.download_url = download_url
        self.calls: list[ProviderCall] = []
        self.headers_seen: list[dict[str, str]] = []
        self.on_call: Callable[[], None] | None = None
        self.data = png_bytes()

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        self.headers_seen.append(dict(call.headers))
        if self.on_call is not None:
            self.on_call()
        if len(self.calls) <= self.failures:
            raise UpstreamError(UPSTREAM_MESSAGE, provider=self.name)
        data = bytes(await call.download(self.download_url)) if self.download_url else self.data
        return ProviderResult(images=[ProviderImage(data, "image/png")] * call.n, provider_request_id="up-1")


class FlakyPlugin:
    def __init__(self, provider: FlakyProvider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(self.provider)
        register.add_model(flaky_spec())


class FailingStoragePlugin:
    """Registers ``failing``: local storage whose writes raise an error naming a secret."""

    @hookimpl
    def register_storage(self, register: Any) -> None:
        from imagegate_storage_local.backend import LocalStorage

        class FailingStorage(LocalStorage):
            name = "failing"

            async def save(self, image_id: str, data: Any, metadata: dict[str, Any]) -> str | None:
                msg = f"disk refused the write (token {SECRET})"
                raise OSError(msg)

        register.add_storage("failing", FailingStorage.from_settings)


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
    state: dict[str, Any] = {"headers": [], "data": png_bytes(40, 40)}

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


def request_log_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON events of logger ``imagegate.requests`` in captured stderr."""
    events = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if document.get("logger") == "imagegate.requests":
                events.append(document)
    return events


def span_texts(finished: Any) -> list[str]:
    """Every string a finished span would export: name, attributes, events, status."""
    texts = []
    for span in finished:
        texts.append(span.name)
        texts.extend(str(value) for value in span.attributes.values())
        for event in span.events:
            texts.append(event.name)
            texts.extend(str(value) for value in event.attributes.values())
        texts.append(str(span.status.description))
    return texts
