"""``PROVIDERS__REPLICATE__*``: the token, the API base URL and how predictions are polled."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from imagegate import AuthenticationError, ProviderSettings

__all__ = ["TOKEN_VARIABLE", "ReplicateSettings"]

TOKEN_VARIABLE = "PROVIDERS__REPLICATE__API_TOKEN"


class ReplicateSettings(ProviderSettings):
    """The ``providers.replicate`` section; ``REPLICATE_API_TOKEN`` is the token's fallback."""

    key_env_var: ClassVar[str | None] = "REPLICATE_API_TOKEN"
    api_key_field: ClassVar[str] = "api_token"

    api_token: SecretStr | None = Field(None, description="Replicate API token (r8_...).")
    base_url: str = Field("https://api.replicate.com/v1", description="Replicate API base URL.")
    poll_interval_s: float = Field(0.5, gt=0, description="First wait between polls of a prediction.")
    poll_max_interval_s: float = Field(5.0, gt=0, description="Longest wait between polls.")
    cancel_timeout_s: float = Field(5.0, gt=0, description="How long a cancel request may take.")

    @property
    def api_root(self) -> str:
        return self.base_url.rstrip("/")

    def token(self) -> str:
        """The token, or :class:`AuthenticationError` naming the variable to set."""
        secret = self.api_token.get_secret_value() if self.api_token else ""
        if not secret:
            msg = f"Replicate needs an API token: set {TOKEN_VARIABLE} (or REPLICATE_API_TOKEN)"
            raise AuthenticationError(msg, provider="replicate", param=TOKEN_VARIABLE)
        return secret
