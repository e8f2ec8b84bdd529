"""OpenAI image models for imagegate: gpt-image-1, gpt-image-1-mini, dall-e-3, dall-e-2, and
``responses/<model>`` (the Responses API with the image_generation tool).

Set ``PROVIDERS__OPENAI__API_KEY`` (or ``OPENAI_API_KEY``), then::

    imagegate generate "a lighthouse at dawn" -m gpt-image-1 --param quality=low
    imagegate edit photo.png --prompt "add a red scarf" -m gpt-image-1 --mask mask.png
    imagegate vary photo.png -m dall-e-2 -n 3
    imagegate generate "a fox" -m responses/gpt-4.1-mini

``PROVIDERS__OPENAI__BASE_URL`` points at any OpenAI-compatible server;
``PROVIDERS__OPENAI__ORGANIZATION`` and ``__PROJECT`` set the account headers;
``PROVIDERS__OPENAI__ENABLED=false`` hides the models. Every parameter is checked against the
model's catalog entry before anything is sent, and costs are estimated before and computed after
each call (tokens for GPT image models, per image for dall-e).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import hookimpl

if TYPE_CHECKING:
    from imagegate.registry import ProviderRegistry
    from imagegate.settings import Settings
    from imagegate.settings_registry import SettingsRegistry


@hookimpl
def register_providers(register: ProviderRegistry, settings: Settings) -> None:
    from .catalog import builtin_models
    from .provider import OpenAIProvider
    from .settings import OpenAISettings

    section = settings.provider("openai", OpenAISettings)
    if not section.enabled:
        return
    register.add_provider(OpenAIProvider(section))  # type: ignore[arg-type]
    for spec in builtin_models():
        register.add_model(spec)


@hookimpl
def register_settings(register: SettingsRegistry) -> None:
    from .settings import OpenAISettings

    register.add_section("providers.openai", OpenAISettings)
