"""Google Gemini image models ("Nano Banana") for imagegate, on the Gemini API's ``generateContent``.

Set ``PROVIDERS__GEMINI__API_KEY`` (or ``GEMINI_API_KEY``, or ``GOOGLE_API_KEY``), then::

    imagegate generate "a lighthouse at dawn" -m gemini-nano-banana-2.1 --param aspect_ratio=16:9
    imagegate edit shoe.png logo.png --prompt "put the logo on the shoe" -m gemini-3-pro-image

``PROVIDERS__GEMINI__BASE_URL`` points at another endpoint (default the ``v1beta`` API);
``PROVIDERS__GEMINI__ENABLED=false`` hides the models. Aspect ratio, image size and the response
modalities are checked against the model's catalog entry before anything is sent; the words the
model returns beside the image become the result's ``revised_prompt``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import hookimpl

if TYPE_CHECKING:
    from imagegate import Settings

__all__ = ["register_providers"]


@hookimpl
def register_providers(register: Any, settings: Settings) -> None:
    from .catalog import builtin_models
    from .provider import GeminiProvider
    from .settings import GeminiSettings

    section = settings.provider("gemini", GeminiSettings)
    if not section.enabled:
        return
    register.add_provider(GeminiProvider(section))  # type: ignore[arg-type]
    for spec in builtin_models():
        register.add_model(spec)
