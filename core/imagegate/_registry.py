"""The typed registries that registration hooks receive.

Duplicate names, aliases, and short versus provider-qualified model ids are settled here, once for
every plugin, and the user's catalog additions from the config file are applied on top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ._catalog import ModelSpec
from ._errors import ImagegateError, InvalidRequest, NotFound

if TYPE_CHECKING:
    import aiohttp

    from ._provider import Provider
    from ._settings import Settings
    from ._storage import Storage

__all__ = ["ProviderRegistry", "StorageRegistry"]


class ProviderRegistry:
    """Providers by name and the model catalog, with aliases."""

    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}
        self.models: dict[str, ModelSpec] = {}
        self._names: dict[str, str] = {}

    def add_provider(self, provider: Provider) -> None:
        """Register a provider under ``provider.name``."""
        if provider.name in self.providers:
            msg = f"provider {provider.name!r} is registered twice"
            raise ValueError(msg)
        self.providers[provider.name] = provider

    def add_model(self, spec: ModelSpec) -> None:
        """Add a model; its id, qualified id and aliases all resolve to it (last one wins)."""
        self.models[spec.id] = spec
        for name in (spec.id, spec.qualified_id, *spec.aliases):
            self._names[name] = spec.id

    def add_alias(self, alias: str, model_id: str) -> None:
        """Let ``alias`` name an already registered model."""
        self._names[alias] = self.lookup(model_id).id

    def setup_needed(self, spec: ModelSpec) -> str | None:
        """None when the model's provider is installed and configured (its ``check_ready`` passes;
        no network), else what to do: the variable to set, or the plugin to install."""
        provider = self.providers.get(spec.provider)
        if provider is None:
            return f"install the {spec.provider} provider plugin"
        try:
            provider.check_ready(spec)
        except ImagegateError as exc:
            return f"set {exc.param}" if exc.param else exc.message
        return None

    def ready(self, spec: ModelSpec) -> bool:
        """Whether the model can be called now (see :meth:`setup_needed`)."""
        return self.setup_needed(spec) is None

    def lookup(self, name: str) -> ModelSpec:
        """The model a short id, qualified id or alias names; :class:`NotFound` otherwise."""
        model_id = self._names.get(name)
        if model_id is None:
            known = ", ".join(sorted(self.models)) or "none"
            msg = f"unknown model {name!r}; available: {known}"
            raise NotFound(msg, param="model")
        return self.models[model_id]

    async def resolve(self, name: str, session: aiohttp.ClientSession) -> ModelSpec:
        """The model ``name`` names in the catalog, else the first provider that resolves it
        (e.g. ``replicate/owner/name``); :class:`NotFound` listing the models otherwise."""
        found = self.find(name)
        if found is not None:
            return found
        for provider in self.providers.values():
            spec = await provider.resolve(name, session)
            if spec is not None:
                return spec
        return self.lookup(name)

    def find(self, name: str) -> ModelSpec | None:
        model_id = self._names.get(name)
        return self.models[model_id] if model_id else None

    def apply_config(self, models: dict[str, dict[str, Any]], aliases: dict[str, str]) -> None:
        """Add or override models from the config file (``base`` copies an existing model)."""
        for model_id, raw in models.items():
            data = dict(raw)
            base_name = data.pop("base", None)
            if base_name is None and model_id in self.models:
                base_name = model_id
            base = self.lookup(base_name).model_dump() if base_name else {}
            if base_name and base_name != model_id:
                base.update(aliases=[], upstream=model_id)
            base.update(data, id=model_id)
            try:
                spec = ModelSpec.model_validate(base)
            except ValidationError as exc:
                msg = f"config model {model_id!r}: {exc.errors()[0]['msg']}"
                raise InvalidRequest(msg, param=f"models.{model_id}") from None
            self.add_model(spec)
        for alias, target in aliases.items():
            self.add_alias(alias, target)


StorageFactoryFn = Callable[[Any], "Storage"]


class StorageRegistry:
    """Storage backend factories by name."""

    def __init__(self) -> None:
        self.factories: dict[str, StorageFactoryFn] = {}

    def add_storage(self, name: str, factory: StorageFactoryFn) -> None:
        """Register ``factory(settings) -> Storage`` as backend ``name``."""
        if name in self.factories:
            msg = f"storage backend {name!r} is registered twice"
            raise ValueError(msg)
        self.factories[name] = factory

    def create(self, settings: Settings) -> Storage:
        """The backend ``STORAGE__BACKEND`` names; :class:`InvalidRequest` listing those installed."""
        backend = settings.storage.backend
        if backend not in self.factories:
            from ._install_hints import STORAGE_BACKENDS, install_hint

            allowed = ", ".join(sorted(self.factories)) or "none installed"
            msg = (f"STORAGE__BACKEND={backend!r} is not available; installed backends: {allowed}"
                   f"{install_hint(STORAGE_BACKENDS.get(backend))}")
            raise InvalidRequest(msg, param="STORAGE__BACKEND")
        return self.factories[backend](settings)
