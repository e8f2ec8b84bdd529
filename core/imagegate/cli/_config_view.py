"""What ``imagegate config`` shows: the effective settings of the core and of every plugin (with
their defaults), where images are stored, and which variable each provider's key came from."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._redact import is_secret_name
from .._settings import ProviderSettings

if TYPE_CHECKING:
    from .._settings import Settings
    from .._settings_registry import SettingsRegistry

__all__ = ["effective_config", "key_variable", "storage_location"]

MASK = "********"


def effective_config(settings: Settings, registry: SettingsRegistry) -> dict[str, Any]:
    """The configuration as a JSON-like dict, secrets masked, plus ``resolved``: where images
    are stored (``storage_location``, ``spool_dir``) and where each provider key comes from
    (``key_sources``: the variable's name, or None when no key is set)."""
    data = settings.model_dump(mode="json")
    key_sources: dict[str, str | None] = {}
    for path, models in registry.sections.items():
        node = data
        for part in path.split("."):
            node = node.setdefault(part, {})
        for model in models:
            node.update(_validated(settings, path, model))
        keyed = [m for m in models if issubclass(m, ProviderSettings) and m.api_key_field in m.model_fields]
        if path.startswith("providers.") and keyed:
            key_sources[path.split(".", 1)[1]] = key_variable(settings, path.split(".", 1)[1], keyed[0])
    data["storage"]["spool_dir"] = str(settings.storage.resolved_spool_dir())
    data = _masked(data)
    data["resolved"] = {"storage_location": storage_location(settings), "spool_dir": data["storage"]["spool_dir"],
                        "key_sources": key_sources}
    return data


def _validated(settings: Settings, path: str, model: type[Any]) -> dict[str, Any]:
    """The section with the plugin's defaults filled in (as read when it does not validate yet)."""
    raw = settings.raw_section(path)
    try:
        if issubclass(model, ProviderSettings):
            return model.from_section(raw).model_dump(mode="json")
        return model.model_validate(raw).model_dump(mode="json")
    except ValidationError:  # a required key still missing (e.g. STORAGE__S3__BUCKET): show what is set
        return dict(raw)


def key_variable(settings: Settings, provider: str, model: type[ProviderSettings]) -> str | None:
    """The variable the provider's key comes from: its own (``PROVIDERS__X__API_KEY``, or the
    config file), its conventional fallback (``OPENAI_API_KEY``), or None when none is set."""
    field = model.api_key_field
    own = f"PROVIDERS__{provider}__{field}".upper()
    if settings.raw_section(f"providers.{provider}").get(field):
        set_in_env = any(name.upper() == own for name in os.environ)
        return own if set_in_env else f"{os.environ.get('IMAGEGATE_CONFIG')} (providers.{provider}.{field})"
    if model.key_env_var and os.environ.get(model.key_env_var):
        return model.key_env_var
    return None


def storage_location(settings: Settings) -> str | None:
    """Where images go: the backend's ``location`` (a folder, ``s3://bucket/prefix``), or why not."""
    from .._errors import ImagegateError
    from .._install_hints import STORAGE_BACKENDS, install_hint
    from .._plugins import make_plugin_manager
    from .._registry import StorageRegistry

    storages = StorageRegistry()
    make_plugin_manager(report=False).hook.register_storage(register=storages)
    backend = settings.storage.backend
    factory = storages.factories.get(backend)
    if factory is None:
        return f"backend {backend!r} is not available{install_hint(STORAGE_BACKENDS.get(backend))}"
    try:
        return str(getattr(factory(settings), "location", None))
    except ImagegateError as exc:
        return f"not usable: {exc.message}"


def _masked(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if is_secret_name(key) and value:
        return MASK
    return value
