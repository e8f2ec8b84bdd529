"""The ``providers.gemini`` settings section (``PROVIDERS__GEMINI__*``)."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from imagegate import ProviderSettings

__all__ = ["DEFAULT_BASE_URL", "KEY_FALLBACKS", "KEY_VARIABLE", "GeminiSettings"]

KEY_VARIABLE = "PROVIDERS__GEMINI__API_KEY"
KEY_FALLBACKS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"


class GeminiSettings(ProviderSettings):
    """Key and endpoint; timeouts, retries, concurrency and RPM come from :class:`ProviderSettings`."""

    key_env_var: ClassVar[str | None] = KEY_FALLBACKS[0]

    api_key: SecretStr | None = Field(
        None, description="Gemini API key (fallback GEMINI_API_KEY, then GOOGLE_API_KEY).")
    base_url: str = Field(DEFAULT_BASE_URL, description="The Gemini API root, version included.")

    @classmethod
    def from_section(cls, raw: dict[str, Any]) -> GeminiSettings:
        """Validate the section; an unset key falls back to ``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``."""
        data = dict(raw)
        if not data.get("api_key"):
            data["api_key"] = next((os.environ[name] for name in KEY_FALLBACKS if os.environ.get(name)), None)
        return cls.model_validate(data)

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def key(self) -> str | None:
        """The key in clear text (only for the ``x-goog-api-key`` header), or None."""
        if self.api_key is None:
            return None
        return self.api_key.get_secret_value() or None
