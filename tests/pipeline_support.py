"""A scripted provider and a gateway around it, for the pipeline's tests (``make`` builds one)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from imagegate import hookimpl
from imagegate._catalog import ModelSpec, ParamSpec, PriceRule, Pricing
from imagegate._errors import AuthenticationError, NotFound, StorageError
from imagegate._models import ImageRequest
from imagegate._provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult
from imagegate.testing import FakeSleep, build_gateway, image_bytes, temp_settings

__all__ = ["REQUEST", "BrokenStorage", "BrokenStoragePlugin", "Downloading", "Plugin", "Scripted", "fake_spec", "make"]


class Scripted(BaseProvider):
    """Answers from a script: an exception to raise, or 'ok'; optionally hangs."""

    name = "fake"

    def __init__(self, script: list[Any] | None = None, *, cancellable: bool = False, key: str | None = "k") -> None:
        self.script = list(script or [])
        self.cancellable = cancellable
        self.key = key
        self.calls: list[ProviderCall] = []
        self.gate: asyncio.Event | None = None
        self.cancelled = False
        self.data = image_bytes(32, 32)

    def check_ready(self, model: ModelSpec) -> None:
        if not self.key:
            raise AuthenticationError("set PROVIDERS__FAKE__API_KEY", provider=self.name)

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, bytes):
            return ProviderResult(images=[ProviderImage(step, "image/png")])
        return ProviderResult(images=[ProviderImage(self.data, "image/png", revised_prompt="revised")] * call.n,
                              provider_request_id="up-1")


def fake_spec(**kw: Any) -> ModelSpec:
    base: dict[str, Any] = {
        "id": "fake-model", "provider": "fake", "upstream": "fake-model", "n_max": 3,
        "params": {"quality": ParamSpec(enum=["low", "high"])},
        "pricing": Pricing(per_image=[PriceRule(match={"quality": "high"}, usd=0.2), PriceRule(usd=0.1)]),
    }
    base.update(kw)
    return ModelSpec(**base)


class Plugin:
    def __init__(self, provider: Scripted, spec: ModelSpec | None = None) -> None:
        self.provider = provider
        self.spec = spec or fake_spec()
        self.events: list[Any] = []

    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(self.provider)
        register.add_model(self.spec)

    @hookimpl
    def track_event(self, gateway: Any, event: Any) -> None:
        self.events.append(event)


async def make(tmp_path: Path, provider: Scripted, sleep: FakeSleep, *, spec: ModelSpec | None = None,
               providers: dict[str, Any] | None = None, **settings: Any) -> tuple[Any, Plugin]:
    plugin = Plugin(provider, spec)
    config = temp_settings(tmp_path, providers=providers or {"fake": {"max_retries": 3}}, **settings)
    gateway = build_gateway(config, ("fake", plugin), sleep=sleep)
    await gateway.open()
    return gateway, plugin


REQUEST = ImageRequest(prompt="a cat", model="fake-model")


class BrokenStorage:
    name = "broken"

    def __init__(self, settings: Any) -> None:
        self.fail = True
        self.saved: dict[str, bytes] = {}
        self.meta: dict[str, dict[str, Any]] = {}

    async def check_writable(self) -> None:
        return None

    async def save(self, image_id: str, data: Any, metadata: dict[str, Any]) -> None:
        if self.fail:
            raise StorageError("bucket unreachable")
        self.saved[image_id] = bytes(data)
        self.meta[image_id] = metadata

    async def read(self, image_id: str) -> bytes:
        if image_id not in self.saved:
            raise NotFound(image_id)
        return self.saved[image_id]

    async def metadata(self, image_id: str) -> dict[str, Any]:
        if image_id not in self.meta:
            raise NotFound(image_id)
        return self.meta[image_id]

    async def url(self, image_id: str, ttl_s: int) -> str:
        return f"mem://{image_id}"

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> None:
        return None

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        return list(self.meta.values())

    async def delete(self, image_id: str) -> None:
        self.saved.pop(image_id)

    async def aclose(self) -> None:
        return None


class BrokenStoragePlugin:
    def __init__(self) -> None:
        self.instance: BrokenStorage | None = None

    @hookimpl
    def register_storage(self, register: Any) -> None:
        def factory(settings: Any) -> BrokenStorage:
            self.instance = BrokenStorage(settings)
            return self.instance

        register.add_storage("broken", factory)


class Downloading(Scripted):
    """Answers with the image at ``url``, fetched through the gateway's download."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        return ProviderResult(images=[ProviderImage(bytes(await call.download(self.url)), "image/png")])
