"""Configuration: environment variables nested with ``__`` over an optional TOML file over defaults.

The root model knows only what the core needs and names no plugin. Plugins declare their sections
(``providers.<name>``, ``storage.<backend>``, ``mcp``, …) through the ``register_settings`` hook,
which keeps them (raw) in :class:`Settings` and lets a misspelt key be refused; each plugin
validates its section with its own model through :meth:`Settings.section`, so adding a plugin never
means editing this file.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ._grids import DEFAULT_TEMPLATE as DEFAULT_GRID_TEMPLATE
from ._proxies import proxy_network
from ._settings_registry import SettingsRegistry, config_error

_M = TypeVar("_M", bound=BaseModel)

__all__ = [
    "CommaList",
    "GatewaySettings",
    "InputSettings",
    "JobsSettings",
    "ProviderSettings",
    "Settings",
    "StorageSettings",
    "WebhookSettings",
    "core_sections",
    "default_data_dir",
    "installed_settings_registry",
    "section",
    "webhook_key",
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
    base_url: str | None = Field(None, description=(
        "The provider's API root; outputs it hands back may be fetched from its host even when private."))

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
    """Which backend stores images, and where paid-for images wait when it fails; each backend's
    own section (``storage.local``, ``storage.s3``) is kept as its plugin declared it."""

    model_config = ConfigDict(extra="allow")

    backend: str = "local"
    spool_dir: Path | None = None
    retention_days: float = Field(0.0, ge=0, description=(
        "Images stored longer ago than this are deleted; 0 keeps them forever."))
    max_size_gb: float = Field(0.0, ge=0, description=(
        "When the store holds more, the oldest images are deleted until it holds less; 0: no cap."))
    retention_grace_h: float = Field(1.0, ge=0, description=(
        "Retention never deletes an image stored less than this many hours ago."))
    gc_interval_s: float = Field(3600.0, ge=0, description=(
        "How often retention runs while a gateway is open (the first pass one interval after it "
        "opens); 0: only with `imagegate gc`."))

    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or default_data_dir() / "spool"


class GatewaySettings(BaseModel):
    """What every front-end shares; a front-end's own ``GATEWAY__*`` limits are kept for it."""

    model_config = ConfigDict(extra="allow")

    default_model: str | None = Field(None, description=(
        "Unset: the recommended model of the first provider with a key, else placeholder."))
    retired_models: Literal["refuse", "translate"] = Field("refuse", description=(
        "refuse: a retired model fails model_retired; translate: the replacement runs instead."))
    api_keys: CommaList = Field(default_factory=list)
    public_url: str | None = None
    url_signing_key: SecretStr | None = None
    url_ttl_s: int = Field(3600, ge=1)

    # Shared with MCP streamable HTTP (imagegate.bearer): keep beside api_keys.
    auth_max_failures: int = Field(10, ge=1, description=(
        "Failed bearer attempts from one client address before it is refused (429) without checking "
        "the key."))
    auth_failure_window_s: float = Field(300.0, gt=0, description=(
        "Window over which failed bearer attempts count."))
    trusted_proxies: CommaList = Field(default_factory=list, description=(
        "Addresses or networks of reverse proxies whose X-Forwarded-For names the client (for the "
        "failed-key lockout and the per-address rate); empty: the header is ignored."))

    grid_prompt_template: str = Field(DEFAULT_GRID_TEMPLATE, description=(
        "The prompt a grid request sends: {rows}, {columns}, {count} and {panels} are filled in."))

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        return [str(proxy_network(text)) for text in value]

    @field_validator("grid_prompt_template")
    @classmethod
    def _grid_template_formats(cls, value: str) -> str:
        try:
            value.format(rows=2, columns=2, count=4, panels="")
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"grid_prompt_template: use only {{rows}}, {{columns}}, {{count}} and {{panels}} ({exc!r})"
            raise ValueError(msg) from None
        if "{panels}" not in value:
            raise ValueError("grid_prompt_template must contain {panels} (the panels' descriptions)")
        return value

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

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="allow", case_sensitive=False)

    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    input: InputSettings = Field(default_factory=InputSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Catalog additions and overrides, keyed by model id."
    )
    aliases: dict[str, str] = Field(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        """Read the environment and the config file; a bad value, in the core's sections or in a
        plugin's, is an ``InvalidRequest`` naming its variable, not a pydantic traceback."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise config_error("", exc) from None
        installed_settings_registry().validate(self)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from ._settings_sources import CONFIG_VARIABLE, ConfigFileSource, PluginSectionsSource

        registry = installed_settings_registry()
        sources: list[PydanticBaseSettingsSource] = [
            init_settings, env_settings, PluginSectionsSource(settings_cls, registry)]
        config_file = os.environ.get(CONFIG_VARIABLE)
        if config_file:
            sources.append(ConfigFileSource(settings_cls, registry, config_file))
        sources.append(PluginSectionsSource(settings_cls, registry, defaults=True))
        return tuple(sources)

    def section(self, path: str, model: type[_M]) -> _M:
        """The section at dotted ``path`` (``mcp``, ``storage.s3``) validated by a plugin's model,
        naming the variable on error."""
        return section(self.raw_section(path), model, path)

    def raw_section(self, path: str) -> dict[str, Any]:
        """The values at dotted ``path`` as read (empty when none are set)."""
        raw: Any = self
        for part in path.split("."):
            raw = raw.get(part, {}) if isinstance(raw, dict) else _raw_section(raw, part)
        return raw if isinstance(raw, dict) else {}

    def provider(self, name: str, model: type[ProviderSettings] = ProviderSettings) -> ProviderSettings:
        """The validated section ``providers.<name>``."""
        try:
            return model.from_section(self.providers.get(name, {}))
        except ValidationError as exc:
            raise config_error(f"providers.{name}", exc) from None


def _raw_section(model: BaseModel, name: str) -> Any:
    """A field's value as a dict, or an extra section kept for a plugin."""
    if name in type(model).model_fields:
        value = getattr(model, name)
        return value.model_dump() if isinstance(value, BaseModel) else value
    return (model.model_extra or {}).get(name, {})


def section(raw: dict[str, Any], model: type[_M], where: str) -> _M:
    """Validate a plugin's raw section with its own model, naming the variable on error."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise config_error(where, exc) from None


class JobsSettings(BaseModel):
    """Where every request's job is recorded, and for how long."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field("sqlite", description="The job store: sqlite (embedded) or one a plugin adds.")
    sqlite_path: Path | None = Field(None, description=(
        "The SQLite file; default jobs.sqlite3 in the data directory (beside STORAGE__SPOOL_DIR)."))
    retention_h: float = Field(24.0, gt=0, description="Finished jobs older than this are purged.")
    heartbeat_s: float = Field(5.0, gt=0, description=(
        "How often each gateway process notes in the job store that it lives; one silent for three "
        "beats is presumed dead and the serving gateways take over its jobs."))

    def resolved_sqlite_path(self, spool_dir: Path) -> Path:
        """The file, by default beside the spool (both in the data directory unless moved)."""
        return self.sqlite_path or spool_dir.parent / "jobs.sqlite3"


class WebhookSettings(BaseModel):
    """``GATEWAY__WEBHOOK_SECRET`` and ``GATEWAY__WEBHOOK_ALLOW_HOSTS`` (the rest of the section is the core's)."""

    model_config = ConfigDict(extra="ignore")

    webhook_secret: SecretStr | None = Field(None, description=(
        "whsec_<base64>: the key job webhooks are signed with (Standard Webhooks); unset: webhooks are refused."))
    webhook_allow_hosts: CommaList = Field(default_factory=list, description=(
        "Webhook hosts allowed although private or plain http (e.g. 127.0.0.1)."))

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            webhook_key(value)
        return value


def webhook_key(secret: SecretStr) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (ValueError, never showing it, when malformed)."""
    import base64
    import binascii

    text = secret.get_secret_value()
    if not text.startswith("whsec_"):
        raise ValueError("webhook_secret must be whsec_ followed by a base64 key (Standard Webhooks)")
    try:
        key = base64.b64decode(text[6:], validate=True)
    except binascii.Error:
        raise ValueError("webhook_secret: the part after whsec_ is not valid base64") from None
    if len(key) < 16:
        raise ValueError("webhook_secret: the key must be at least 16 bytes (24 to 64 recommended)")
    return key


def core_sections(register: SettingsRegistry) -> None:
    """The sections the core itself reads."""
    register.add_section("gateway", GatewaySettings)
    register.add_section("input", InputSettings)
    register.add_section("logging", LoggingSettings)
    register.add_section("storage", StorageSettings)
    register.add_section("jobs", JobsSettings)
    register.add_section("gateway", WebhookSettings)
    register.add_open("models")
    register.add_open("aliases")


def installed_settings_registry() -> SettingsRegistry:
    """The registry of the core and of every plugin installed and not disabled."""
    return _registry_for(os.environ.get("IMAGEGATE_DISABLE_PLUGINS", ""))


@lru_cache(maxsize=8)
def _registry_for(disabled: str) -> SettingsRegistry:
    from ._plugins import make_plugin_manager

    register = SettingsRegistry()
    core_sections(register)
    make_plugin_manager(report=False).hook.register_settings(register=register)  # loading is reported later
    return register
