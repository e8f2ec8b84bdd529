"""What the observability tests share besides fixtures (those live in conftest.py): the secrets
that must never leak, a flaky provider plugin that knows nothing of observability, a storage
backend that fails, and readers of captured logs and spans."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

from imagegate import hookimpl
from imagegate._catalog import ModelSpec, ParamSpec, Pricing, PriceRule, SizeSpec
from imagegate._errors import UpstreamError
from imagegate._provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult
from imagegate.testing import image_bytes

SECRET = "sk-obs-test-Secret-1f2e3d4c5b6a7988"
"""A provider key; it must never show up in a log line, span or exported error."""
GATEWAY_KEY = "gw-key-Obs-77aa88bb99cc"
B64 = base64.b64encode(os.urandom(900)).decode()
"""Image-like base64 data (1200 chars); it must never show up either."""
UPSTREAM_MESSAGE = f"upstream 502 for key {SECRET}: echo data:image/png;base64,{B64}"


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
        self.data = image_bytes(32, 32)

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
