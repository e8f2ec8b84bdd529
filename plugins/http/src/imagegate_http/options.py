"""The HTTP front-end's options, taken from the effective ``GATEWAY__*`` and ``INPUT__*`` settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from imagegate.bearer import BearerCheck
    from imagegate.settings import Settings

__all__ = ["HttpOptions"]


class HttpOptions(BaseModel):
    """Everything the app needs to know about limits, keys and browsers."""

    model_config = ConfigDict(extra="forbid")

    api_keys: list[str] = Field(default_factory=list, description="Bearer keys for /v1; empty: open.")
    rate_limit_rpm: int | None = Field(None, ge=1, description="Requests per minute per key.")
    max_body_mb: float = Field(64.0, gt=0, description="Largest request body.")
    max_image_mb: float = Field(50.0, gt=0, description="Largest uploaded image.")
    max_images: int = Field(16, ge=1, description="Most images in one upload.")
    cors_origins: list[str] = Field(default_factory=list, description="Browser origins allowed; '*' any.")
    shutdown_timeout_s: float = Field(60.0, gt=0, description="How long SIGTERM waits for requests.")
    # hardening limits (GatewaySettings' block of the same names)
    max_json_kb: int = Field(1024, ge=1, description="Largest JSON body.")
    max_parts: int = Field(64, ge=1, description="Most parts in one multipart upload.")
    max_field_kb: int = Field(256, ge=1, description="Largest multipart text field.")
    header_timeout_s: float = Field(15.0, gt=0, description="Time to send a request head; idle time allowed.")
    auth_max_failures: int = Field(10, ge=1, description="Failed key attempts per address before 429.")
    auth_failure_window_s: float = Field(300.0, gt=0, description="Window of counted failed key attempts.")

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        gateway = settings.gateway
        return cls(
            api_keys=list(gateway.api_keys), rate_limit_rpm=gateway.rate_limit_rpm,
            max_body_mb=gateway.max_body_mb, max_image_mb=settings.input.max_mb,
            max_images=gateway.max_images, cors_origins=list(gateway.cors_origins),
            shutdown_timeout_s=gateway.shutdown_timeout_s,
            max_json_kb=gateway.max_json_kb, max_parts=gateway.max_parts, max_field_kb=gateway.max_field_kb,
            header_timeout_s=gateway.header_timeout_s, auth_max_failures=gateway.auth_max_failures,
            auth_failure_window_s=gateway.auth_failure_window_s,
        )

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_image_bytes(self) -> int:
        return int(self.max_image_mb * 1024 * 1024)

    @property
    def max_json_bytes(self) -> int:
        return self.max_json_kb * 1024

    @property
    def max_field_bytes(self) -> int:
        return self.max_field_kb * 1024

    def bearer_check(self) -> BearerCheck:
        """The key check of ``/v1`` (the same class MCP's streamable HTTP uses)."""
        from imagegate.bearer import BearerCheck

        return BearerCheck(self.api_keys, max_failures=self.auth_max_failures,
                           window_s=self.auth_failure_window_s)
