"""The HTTP front-end's options: its own limits (:mod:`.settings`) plus the core's keys and input cap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field

from .settings import HttpSettings

if TYPE_CHECKING:
    from imagegate.settings import Settings

__all__ = ["HttpOptions"]


class HttpOptions(HttpSettings):
    """Everything the app needs to know about limits, keys and browsers."""

    model_config = ConfigDict(extra="forbid")

    api_keys: list[str] = Field(default_factory=list, description="Bearer keys for /v1; empty: open.")
    max_image_mb: float = Field(50.0, gt=0, description="Largest uploaded image.")

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        limits = settings.section("gateway", HttpSettings)
        return cls(**limits.model_dump(), api_keys=list(settings.gateway.api_keys),
                   max_image_mb=settings.input.max_mb)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_image_bytes(self) -> int:
        return int(self.max_image_mb * 1024 * 1024)
