"""The HTTP front-end's own ``GATEWAY__*`` limits, declared to the core's ``gateway`` section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from imagegate import CommaList

__all__ = ["HttpSettings"]


class HttpSettings(BaseModel):
    """``GATEWAY__MAX_BODY_MB``, ``__MAX_JSON_KB``, ``__MAX_PARTS``, ``__MAX_FIELD_KB``,
    ``__HEADER_TIMEOUT_S``, ``__RATE_LIMIT_RPM``, ``__MAX_IMAGES``, ``__CORS_ORIGINS``,
    ``__SHUTDOWN_TIMEOUT_S``: limits only the HTTP server applies (the README says why each default)."""

    model_config = ConfigDict(extra="ignore")  # the rest of the section is the core's

    max_body_mb: float = Field(64.0, gt=0, description="Largest request body (uploads included).")
    max_json_kb: int = Field(1024, ge=1, description="Largest JSON request body: prompt and parameters only.")
    max_parts: int = Field(64, ge=1, description="Most parts in one multipart upload (images and fields).")
    max_field_kb: int = Field(256, ge=1, description="Largest multipart text field (a prompt, a parameter).")
    header_timeout_s: float = Field(15.0, gt=0, description=(
        "How long a connection may take to send a complete request head, and stay idle between requests."))
    rate_limit_rpm: int | None = Field(None, ge=1, description="Requests per minute per key.")
    max_images: int = Field(16, ge=1, description="Most images in one upload.")
    cors_origins: CommaList = Field(default_factory=list, description="Browser origins allowed; '*' any.")
    shutdown_timeout_s: float = Field(60.0, gt=0, description="How long SIGTERM waits for requests.")
