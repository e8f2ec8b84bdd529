"""``ScriptedProvider``: a provider whose every attempt is scripted, for testing the pipeline and
front-ends without any upstream (failures, slow answers, usage and cost included);
``ScriptedPlugin`` registers one with its models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import hookimpl
from .._provider import BaseProvider, ProviderImage, ProviderResult
from .images import image_bytes

if TYPE_CHECKING:
    from .._catalog import ModelSpec
    from .._errors import ImagegateError
    from .._provider import ProviderCall

__all__ = ["ScriptedPlugin", "ScriptedProvider", "scripted_model"]

Outcome = ProviderResult | Exception | Callable[["ProviderCall"], Any]


def scripted_model(model_id: str = "scripted-1", provider: str = "scripted", **fields: Any) -> ModelSpec:
    """A model of the scripted provider: generate and edit, any multiple-of-16 size, n 1-4."""
    from .._catalog import ModelSpec, SizeSpec

    values: dict[str, Any] = {
        "id": model_id, "provider": provider, "upstream": model_id, "operations": ["generate", "edit"],
        "sizes": SizeSpec(multiple_of=16, min_side=16, max_side=2048), "default_size": "64x64",
        "n_min": 1, "n_max": 4, "max_input_images": 4, "mask": True,
    }
    values.update(fields)
    return ModelSpec(**values)


class ScriptedProvider(BaseProvider):
    """Answers each attempt with the next scripted outcome, then with real PNGs of the asked size.

    ``script(outcome, ...)`` queues outcomes: a :class:`ProviderResult`, an exception to raise
    (e.g. ``RateLimited("slow", retry_after=3)``) or a callable taking the call (may be async).
    ``calls`` records every :class:`ProviderCall`; ``hold()`` / ``release()`` keep attempts
    waiting, like a slow upstream.
    """

    def __init__(self, name: str = "scripted", *, cancellable: bool = True, key_error: ImagegateError | None = None) -> None:
        self.name = name
        self.cancellable = cancellable
        self.calls: list[ProviderCall] = []
        self.key_error = key_error
        self._script: list[Outcome] = []
        self._go = asyncio.Event()
        self._go.set()

    def script(self, *outcomes: Outcome) -> ScriptedProvider:
        self._script.extend(outcomes)
        return self

    def hold(self) -> None:
        self._go.clear()

    def release(self) -> None:
        self._go.set()

    def check_ready(self, model: ModelSpec) -> None:
        if self.key_error is not None:
            raise self.key_error

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        await self._go.wait()
        if not self._script:
            return self.default_result(call)
        outcome = self._script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        if callable(outcome):
            value = outcome(call)
            return await value if asyncio.iscoroutine(value) else value
        return outcome

    @staticmethod
    def default_result(call: ProviderCall) -> ProviderResult:
        width, height = (int(side) for side in (call.size or "64x64").split("x"))
        return ProviderResult(images=[ProviderImage(image_bytes(width, height, seed=i), "image/png")
                                      for i in range(call.n)])


class ScriptedPlugin:
    """A plugin registering ``provider`` and its ``models`` (see :func:`scripted_model`); register it
    with ``build_gateway(settings, ("name", plugin))`` and assert on ``plugin.provider.calls``."""

    def __init__(self, provider: ScriptedProvider, *models: ModelSpec) -> None:
        self.provider = provider
        self.models = models

    @classmethod
    def priced_by_source(cls, usd: float = 0.05) -> ScriptedPlugin:
        """Provider ``priced`` with ``official-1`` and ``unofficial-1`` at ``usd`` an image: the same
        price, published by the provider for one and quoted by third parties for the other."""
        from .._catalog import PriceRule, Pricing

        return cls(ScriptedProvider("priced"), *(
            scripted_model(f"{source}-1", provider="priced", pricing=Pricing(per_image=[PriceRule(usd=usd)],
                                                                             source=source))
            for source in ("official", "unofficial")))

    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(self.provider)
        for model in self.models:
            register.add_model(model)
