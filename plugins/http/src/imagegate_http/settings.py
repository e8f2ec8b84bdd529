"""The HTTP front-end's own ``GATEWAY__*`` limits, declared to the core's ``gateway`` section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from imagegate.settings import CommaList

__all__ = ["HttpSettings"]


class HttpSettings(BaseModel):
    """``GATEWAY__MAX_BODY_MB``, ``__RATE_LIMIT_RPM``, ``__MAX_IMAGES``, ``__CORS_ORIGINS``,
    ``__SHUTDOWN_TIMEOUT_S``: limits only the HTTP server applies."""

    model_config = ConfigDict(extra="ignore")  # the rest of the section is the core's

    max_body_mb: float = Field(900.0, gt=0, description="Largest request body.")
    rate_limit_rpm: int | None = Field(None, ge=1, description="Requests per minute per key.")
    max_images: int = Field(16, ge=1, description="Most images in one upload.")
    cors_origins: CommaList = Field(default_factory=list, description="Browser origins allowed; '*' any.")
    shutdown_timeout_s: float = Field(60.0, gt=0, description="How long SIGTERM waits for requests.")
