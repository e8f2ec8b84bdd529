"""Replicate for imagegate: FLUX.2 (``flux-2-pro``, ...), ``flux-dev``, ``flux-1.1-pro``,
``recraft-v3-svg`` and any Replicate model.

Set ``PROVIDERS__REPLICATE__API_TOKEN`` (or ``REPLICATE_API_TOKEN``), then::

    imagegate generate "a lighthouse at dusk" -m flux-2-pro --param resolution="2 MP"
    imagegate edit kite.png field.jpg --prompt "the kite over the field" -m flux-2-pro
    imagegate generate "a lighthouse at dusk" -m flux-dev -n 2 --param aspect_ratio=16:9
    imagegate generate "a fox logo" -m recraft-v3-svg --size 1024x1024 --param style=line_art
    imagegate generate "a cat" -m replicate/owner/name:VERSION --param num_inference_steps=20

Any model is usable as ``replicate/owner/name`` (official models, latest version) or
``replicate/owner/name:version`` (community models): its published input schema is fetched once
and every request is checked against it before a prediction is created. ``-n`` maps to the
model's count field (``num_outputs``); models without one get one prediction per image.
``PROVIDERS__REPLICATE__BASE_URL`` points at any Replicate-compatible server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import hookimpl

if TYPE_CHECKING:
    from imagegate import ProviderRegistry, Settings, SettingsRegistry


@hookimpl
def register_providers(register: ProviderRegistry, settings: Settings) -> None:
    from .catalog import builtin_models
    from .provider import ReplicateProvider
    from .settings import ReplicateSettings

    config: Any = settings.provider("replicate", ReplicateSettings)
    if not config.enabled:
        return
    catalog = builtin_models()
    register.add_provider(ReplicateProvider(config, catalog))
    for spec in catalog:
        register.add_model(spec)


@hookimpl
def register_settings(register: SettingsRegistry) -> None:
    from .settings import ReplicateSettings

    register.add_section("providers.replicate", ReplicateSettings)
