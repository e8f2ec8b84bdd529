"""The HTTP front-end's options: its own limits (:mod:`.settings`) plus the core's keys and input cap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field

from .settings import HttpSettings

if TYPE_CHECKING:
    from imagegate.frontend import BearerCheck, TrustedProxies
    from imagegate import Settings

__all__ = ["HttpOptions"]


class HttpOptions(HttpSettings):
    """Everything the app needs to know about limits, keys and browsers."""

    model_config = ConfigDict(extra="forbid")

    api_keys: list[str] = Field(default_factory=list, description="Bearer keys for /v1; empty: open.")
    max_image_mb: float = Field(50.0, gt=0, description="Largest uploaded image.")
    auth_max_failures: int = Field(10, ge=1, description="Failed key attempts per address before 429.")
    auth_failure_window_s: float = Field(300.0, gt=0, description="Window of counted failed key attempts.")
    trusted_proxies: list[str] = Field(default_factory=list, description=(
        "Proxies whose X-Forwarded-For names the client; empty: none."))

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        limits = settings.section("gateway", HttpSettings)
        gateway = settings.gateway
        return cls(**limits.model_dump(), api_keys=list(gateway.api_keys), max_image_mb=settings.input.max_mb,
                   auth_max_failures=gateway.auth_max_failures, auth_failure_window_s=gateway.auth_failure_window_s,
                   trusted_proxies=list(gateway.trusted_proxies))

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
        from imagegate.frontend import BearerCheck

        return BearerCheck(self.api_keys, max_failures=self.auth_max_failures,
                           window_s=self.auth_failure_window_s)

    def proxies(self) -> TrustedProxies:
        """Who may name the client in ``X-Forwarded-For`` (``GATEWAY__TRUSTED_PROXIES``)."""
        from imagegate.frontend import TrustedProxies

        return TrustedProxies(self.trusted_proxies)
