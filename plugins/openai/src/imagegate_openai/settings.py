"""The ``providers.openai`` settings section (``PROVIDERS__OPENAI__*``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from imagegate import ProviderSettings

__all__ = ["KEY_VARIABLE", "OpenAISettings"]

KEY_VARIABLE = "PROVIDERS__OPENAI__API_KEY"


class OpenAISettings(ProviderSettings):
    """Key, endpoint and account headers; limits come from :class:`ProviderSettings`."""

    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"

    api_key: SecretStr | None = Field(None, description="OpenAI API key (fallback OPENAI_API_KEY).")
    base_url: str = Field("https://api.openai.com/v1", description="Any OpenAI-compatible endpoint.")
    organization: str | None = Field(None, description="Sent as OpenAI-Organization.")
    project: str | None = Field(None, description="Sent as OpenAI-Project.")

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def key(self) -> str | None:
        """The key in clear text (only for the Authorization header), or None."""
        if self.api_key is None:
            return None
        return self.api_key.get_secret_value() or None
