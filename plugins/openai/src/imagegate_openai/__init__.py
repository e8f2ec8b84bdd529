"""OpenAI image models for imagegate: gpt-image-2, 2.5 and 2.6 (sunburst, flare) and
``responses/<model>`` (the Responses API with the image_generation tool); the retired dall-e and
gpt-image-1 models are listed as retired.

Set ``PROVIDERS__OPENAI__API_KEY`` (or ``OPENAI_API_KEY``), then::

    imagegate generate "a lighthouse at dawn" -m gpt-image-2.6-sunburst --param quality=low
    imagegate edit photo.png --prompt "add a red scarf" -m gpt-image-2.6-flare --mask mask.png
    imagegate generate "a fox" -m responses/gpt-4.1-mini

``PROVIDERS__OPENAI__BASE_URL`` points at any OpenAI-compatible server;
``PROVIDERS__OPENAI__ORGANIZATION`` and ``__PROJECT`` set the account headers;
``PROVIDERS__OPENAI__ENABLED=false`` hides the models. Every parameter is checked against the
model's catalog entry before anything is sent, and costs are estimated before and computed after
each call (tokens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import hookimpl

if TYPE_CHECKING:
    from imagegate import ProviderRegistry, Settings, SettingsRegistry


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
