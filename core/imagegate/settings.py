"""Configuration: environment variables nested with ``__`` over an optional TOML file over defaults.

The root model knows only what the core needs. Plugins own their sections (``providers.<name>``,
``storage.<backend>``, ``mcp``, ``observability``) and validate them with their own models through
:func:`section`, so adding a plugin never means editing this file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import InvalidRequest

__all__ = [
    "CommaList",
    "GatewaySettings",
    "InputSettings",
    "ProviderSettings",
    "Settings",
    "StorageSettings",
    "default_data_dir",
    "section",
]


def _split_list(value: Any) -> Any:
    """Accept ``a,b`` or a JSON array for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]
"""A list setting written as ``a,b,c`` or as a JSON array."""


def default_data_dir() -> Path:
    """The per-user data directory (never the current directory)."""
    from platformdirs import user_data_path

    return user_data_path("imagegate", appauthor=False)


class ProviderSettings(BaseModel):
    """Limits every provider section has; provider plugins subclass it with their own fields.

    ``key_env_var`` names the provider's conventional key variable, used as a fallback for
    ``api_key_field`` and in the error that tells a user what to set.
    """

    model_config = ConfigDict(extra="ignore")

    key_env_var: ClassVar[str | None] = None
    api_key_field: ClassVar[str] = "api_key"

    enabled: bool = True
    timeout_s: float = Field(600.0, gt=0, description="Deadline of one request, retries included.")
    connect_timeout_s: float = Field(30.0, gt=0, description="TCP/TLS connect timeout.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries on 429, 5xx, connection errors.")
    max_concurrency: int = Field(8, ge=1, description="Upstream calls in flight at once.")
    rpm: int | None = Field(None, ge=1, description="Upstream calls per minute.")
    max_download_mb: float = Field(100.0, gt=0, description="Largest output file downloaded.")

    @classmethod
    def from_section(cls, raw: dict[str, Any]) -> ProviderSettings:
        """Validate a raw section, filling the key from ``key_env_var`` when unset."""
        data = dict(raw)
        if cls.key_env_var and not data.get(cls.api_key_field):
            fallback = os.environ.get(cls.key_env_var)
            if fallback:
                data[cls.api_key_field] = fallback
        return cls.model_validate(data)


class StorageSettings(BaseModel):
    """Which backend stores images, and where paid-for images wait when it fails."""

    model_config = ConfigDict(extra="allow")

    backend: str = "local"
    spool_dir: Path | None = None
    local: dict[str, Any] = Field(default_factory=dict)
    s3: dict[str, Any] = Field(default_factory=dict)

    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or default_data_dir() / "spool"


class GatewaySettings(BaseModel):
    """What every front-end shares."""

    model_config = ConfigDict(extra="ignore")

    default_model: str | None = Field(None, description=(
        "Unset: the recommended model of the first provider with a key, else placeholder."))
    retired_models: Literal["refuse", "translate"] = Field("refuse", description=(
        "refuse: a retired model fails model_retired; translate: the replacement runs instead."))
    api_keys: CommaList = Field(default_factory=list)
    public_url: str | None = None
    url_signing_key: SecretStr | None = None
    url_ttl_s: int = Field(3600, ge=1)
    max_body_mb: float = Field(64.0, gt=0, description="Largest request body (uploads included).")
    rate_limit_rpm: int | None = Field(None, ge=1)
    max_images: int = Field(16, ge=1, description="Most input images in one request.")
    cors_origins: CommaList = Field(default_factory=list, description="Browser origins allowed; '*' any.")
    shutdown_timeout_s: float = Field(60.0, gt=0, description="How long a server drains on SIGTERM.")

    # --- HTTP front-end hardening (new; to move next to the HTTP settings) ----------------------
    max_json_kb: int = Field(1024, ge=1, description="Largest JSON request body: prompt and parameters only.")
    max_parts: int = Field(64, ge=1, description="Most parts in one multipart upload (images and fields).")
    max_field_kb: int = Field(256, ge=1, description="Largest multipart text field (a prompt, a parameter).")
    header_timeout_s: float = Field(15.0, gt=0, description=(
        "How long a connection may take to send a complete request head, and stay idle between requests."))
    # Shared with MCP streamable HTTP (imagegate.bearer): keep beside api_keys.
    auth_max_failures: int = Field(10, ge=1, description=(
        "Failed bearer attempts from one client address before it is refused (429) without checking "
        "the key."))
    auth_failure_window_s: float = Field(300.0, gt=0, description=(
        "Window over which failed bearer attempts count."))

    def signing_key(self) -> bytes | None:
        """``url_signing_key`` as the signer takes it (None: use the key kept on disk)."""
        return self.url_signing_key.get_secret_value().encode() if self.url_signing_key else None


class InputSettings(BaseModel):
    """Where MCP and HTTP may read input images from."""

    model_config = ConfigDict(extra="ignore")

    allowed_roots: CommaList = Field(default_factory=list)
    allowed_hosts: CommaList = Field(default_factory=list)
    max_mb: float = Field(50.0, gt=0, description="Largest input image accepted.")


class LoggingSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    log_prompts: bool = False
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """The effective configuration (``imagegate config`` prints it, secrets masked)."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore", case_sensitive=False)

    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    input: InputSettings = Field(default_factory=InputSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    mcp: dict[str, Any] = Field(default_factory=dict)
    observability: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Catalog additions and overrides, keyed by model id."
    )
    aliases: dict[str, str] = Field(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        """Read the environment and the config file; a bad value is an ``InvalidRequest`` naming
        its variable, not a pydantic traceback."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _config_error("", exc) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("IMAGEGATE_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    def provider(self, name: str, model: type[ProviderSettings] = ProviderSettings) -> ProviderSettings:
        """The validated section ``providers.<name>``."""
        try:
            return model.from_section(self.providers.get(name, {}))
        except ValidationError as exc:
            raise _config_error(f"providers.{name}", exc) from None


_M = TypeVar("_M", bound=BaseModel)


def section(raw: dict[str, Any], model: type[_M], where: str) -> _M:
    """Validate a plugin's raw section with its own model, naming the variable on error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(where, exc) from None


def _config_error(where: str, exc: ValidationError) -> InvalidRequest:
    first = exc.errors()[0]
    variable = "__".join([*filter(None, where.split(".")), *(str(part) for part in first["loc"])]).upper()
    msg = f"configuration {variable}: {first['msg']}"
    return InvalidRequest(msg, param=variable)
