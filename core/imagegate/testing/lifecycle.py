"""A provider with models in every lifecycle state, for tests of retired, deprecated and default
models and of ``imagegate models --check``.

Provider ``lc`` (its key: ``providers.lc.api_key``, i.e. ``PROVIDERS__LC__API_KEY``) serves:

- ``lc-old`` retired (sizes 256x256 … 1792x1024, ``quality`` standard|hd, ``style``), replaced
  by ``lc-older-successor`` which is retired too and replaced by ``lc-new``;
- ``lc-new`` active and recommended (sizes 1024x1024, 1536x1024, 1024x1536, auto; ``quality``
  low|medium|high|auto; ``output_format``), generate and edit;
- ``lc-deprecated`` deprecated, shutting down on :data:`DEPRECATED_SHUTDOWN`, replaced by ``lc-new``;
- ``lc-gone`` retired without a replacement.

It answers with placeholder pictures and records every call. Its
``list_upstream_models`` reads OpenAI's ``GET {providers.lc.base_url}/models`` list, marking ids
containing ``image`` as image models. Register :class:`LifecyclePlugin` only in tests.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .. import hookimpl
from .._catalog import ModelSpec, ParamSpec, SizeSpec
from .._errors import AuthenticationError, UpstreamError
from .._provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult, UpstreamModel

if TYPE_CHECKING:
    import aiohttp

    from .._settings import Settings

__all__ = ["DEPRECATED_SHUTDOWN", "LifecyclePlugin", "LifecycleProvider", "lifecycle_specs"]

NAME = "lc"
KEY_VARIABLE = "PROVIDERS__LC__API_KEY"
DEPRECATED_SHUTDOWN = date(2031, 1, 15)


def lifecycle_specs() -> list[ModelSpec]:
    old_sizes = SizeSpec(values=["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"])
    new_sizes = SizeSpec(values=["1024x1024", "1536x1024", "1024x1536", "auto"])
    new_params = {"quality": ParamSpec(enum=["low", "medium", "high", "auto"], default="auto"),
                  "output_format": ParamSpec(enum=["png", "jpeg", "webp"], default="png")}
    return [
        ModelSpec(id="lc-old", provider=NAME, upstream="lc-image-old", sizes=old_sizes, default_size="1024x1024",
                  n_max=1, params={"quality": ParamSpec(enum=["standard", "hd"]),
                                   "style": ParamSpec(enum=["vivid", "natural"])},
                  status="retired", shutdown_date=date(2026, 5, 12), replacement="lc-older-successor"),
        ModelSpec(id="lc-older-successor", provider=NAME, upstream="lc-image-mid", sizes=new_sizes,
                  params=new_params, status="retired", replacement="lc-new"),
        ModelSpec(id="lc-new", provider=NAME, upstream="lc-image-new", aliases=["lc-latest"], sizes=new_sizes,
                  default_size="1024x1024", n_max=4, operations=["generate", "edit"], params=new_params,
                  recommended=True),
        ModelSpec(id="lc-deprecated", provider=NAME, upstream="lc-image-dep", sizes=new_sizes,
                  default_size="1024x1024", params=new_params, status="deprecated",
                  shutdown_date=DEPRECATED_SHUTDOWN, replacement="lc-new"),
        ModelSpec(id="lc-gone", provider=NAME, upstream="lc-image-gone", sizes=new_sizes, status="retired"),
    ]


class LifecycleProvider(BaseProvider):
    """Records calls; answers a placeholder PNG per image."""

    name = NAME
    cancellable = True

    def __init__(self, settings: Settings) -> None:
        self.section: dict[str, Any] = settings.providers.get(NAME, {})
        self.calls: list[ProviderCall] = []

    def check_ready(self, model: ModelSpec) -> None:
        if not self.section.get("api_key"):
            msg = f"{model.id} needs a key: set {KEY_VARIABLE}"
            raise AuthenticationError(msg, provider=NAME, param=KEY_VARIABLE)

    async def run(self, call: ProviderCall) -> ProviderResult:
        from .._default_plugins import placeholder_render

        self.calls.append(call)
        data = placeholder_render.render(call.prompt or "", width=64, height=64, output_format="png",
                                         background="auto", seed=1)
        return ProviderResult(images=[ProviderImage(data, "image/png")] * call.n)

    async def list_upstream_models(self, session: aiohttp.ClientSession) -> list[UpstreamModel]:
        headers = {"Authorization": f"Bearer {self.section['api_key']}"}
        async with session.get(f"{self.section['base_url']}/models", headers=headers) as response:
            body = await response.json()
            if response.status != 200:
                raise UpstreamError(body["error"]["message"], provider=NAME, retryable=False)
        return [{"id": item["id"], "shutdown_date": item.get("shutdown_date"), "image": "image" in item["id"]}
                for item in body["data"]]


class LifecyclePlugin:
    """Registers :class:`LifecycleProvider` and :func:`lifecycle_specs`; ``provider`` is the
    instance built (for assertions on its calls)."""

    provider: LifecycleProvider | None = None

    @hookimpl
    def register_providers(self, register: Any, settings: Settings) -> None:
        self.provider = LifecycleProvider(settings)
        register.add_provider(self.provider)
        for spec in lifecycle_specs():
            register.add_model(spec)
