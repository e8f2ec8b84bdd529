"""Configuration mistakes are refused by name: a missing or malformed config file, a misspelt
section or key (with the nearest valid one), in the environment and in the file alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagegate._errors import InvalidRequest
from imagegate._settings import Settings
from imagegate._settings import core_sections
from imagegate._settings_registry import SettingsRegistry


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> InvalidRequest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InvalidRequest) as caught:
        Settings()
    assert caught.value.code == "invalid_request"
    return caught.value


def test_config_file_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "imagegate.toml"
    error = refused(monkeypatch, IMAGEGATE_CONFIG=str(missing))
    assert error.param == "IMAGEGATE_CONFIG"
    assert str(missing) in error.message and "does not exist" in error.message


def test_malformed_config_file_names_the_file_and_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text('[gateway]\nurl_ttl_s = 60\ndefault_model = \n')
    error = refused(monkeypatch, IMAGEGATE_CONFIG=str(config))
    assert str(config) in error.message and "line 3" in error.message


@pytest.mark.parametrize(("variable", "nearest"), [
    ("GATEWAY__DEFALT_MODEL", "GATEWAY__DEFAULT_MODEL"),
    ("PROVIDERS__OPENAI__APIKEY", "PROVIDERS__OPENAI__API_KEY"),
    ("PROVIDERS__OPENIA__API_KEY", "PROVIDERS__OPENAI__API_KEY"),
    ("PROVIDERS__REPLICATE__API_TOKN", "PROVIDERS__REPLICATE__API_TOKEN"),
    ("PROVIDERS__PLACEHOLDER__TIMEOUT", "PROVIDERS__PLACEHOLDER__TIMEOUT_S"),
    ("STORAGE__BACKNED", "STORAGE__BACKEND"),
    ("STORAGE__S3__BUKET", "STORAGE__S3__BUCKET"),
    ("STORAGE__LOCAL__ROOTS", "STORAGE__LOCAL__ROOT"),
    ("MCP__DELIVR", "MCP__DELIVER"),
    ("OBSERVABILITY__METRIC_PORT", "OBSERVABILITY__METRICS_PORT"),
    ("GATEWAY__MAX_BODY", "GATEWAY__MAX_BODY_MB"),  # the HTTP plugin's key in the core's section
    ("LOGGING__LOG_PROMPT", "LOGGING__LOG_PROMPTS"),
])
def test_misspelt_variable_names_the_nearest_one(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                 nearest: str) -> None:
    error = refused(monkeypatch, **{variable: "1"})
    assert error.param == variable
    assert error.message == f"configuration {variable}: unknown setting; did you mean {nearest}?"


def test_unknown_key_with_nothing_near_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    error = refused(monkeypatch, GATEWAY__ZQXJ="1")
    assert error.message == "configuration GATEWAY__ZQXJ: unknown setting"


def test_variables_outside_known_sections_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATWAY__DEFAULT_MODEL", "SOMETOOL__SETTING", "PYTEST__X", "OPENAI_API_BASE"):
        monkeypatch.setenv(name, "1")
    settings = Settings()
    assert "default_model" not in settings.gateway.model_fields_set
    assert not {"gatway", "sometool", "pytest"} & set(settings.model_extra or {})


@pytest.mark.parametrize(("toml", "named", "nearest"), [
    ('[gatway]\ndefault_model = "placeholder"\n', "gatway.default_model", "gateway.default_model"),
    ('[gateway]\ndefalt_model = "placeholder"\n', "gateway.defalt_model", "gateway.default_model"),
    ('[providers.openai]\napikey = "x"\n', "providers.openai.apikey", "providers.openai.api_key"),
    ('[storage.s3]\nbuckt = "b"\n', "storage.s3.buckt", "storage.s3.bucket"),
    ('[mcp]\ndelivery = "full"\n', "mcp.delivery", "mcp.deliver"),
])
def test_misspelt_file_keys_name_the_file_and_the_nearest_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                               toml: str, named: str, nearest: str) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text(toml)
    error = refused(monkeypatch, IMAGEGATE_CONFIG=str(config))
    assert error.param == named
    assert error.message == f"configuration {named} in {config}: unknown setting; did you mean {nearest}?"


def test_plugin_sections_are_kept_and_validated_by_their_plugin(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text('[mcp]\ndeliver = "full"\n[storage.s3]\nbucket = "pictures"\n'
                      '[jobs]\nbackend = "redis"\n')  # jobs: a plugin not installed here keeps its section
    monkeypatch.setenv("IMAGEGATE_CONFIG", str(config))
    monkeypatch.setenv("MCP__PREVIEW_MAX_BYTES", "2048")
    settings = Settings()
    from imagegate_mcp.settings import MCPSettings
    from imagegate_storage_s3.settings import S3Settings

    mcp = settings.section("mcp", MCPSettings)
    assert (mcp.deliver, mcp.preview_max_bytes) == ("full", 2048)
    assert settings.section("storage.s3", S3Settings).bucket == "pictures"
    assert settings.raw_section("jobs") == {"backend": "redis"}


def test_a_bad_plugin_value_fails_when_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    error = refused(monkeypatch, MCP__DELIVER="carrier-pigeon")
    assert error.param == "MCP__DELIVER" and error.message.startswith("configuration MCP__DELIVER: ")


def test_required_plugin_keys_are_left_to_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE__S3__PREFIX", "pictures")  # no bucket: only matters with the s3 backend
    assert Settings().raw_section("storage.s3") == {"prefix": "pictures"}


def test_core_names_no_plugin() -> None:
    register = SettingsRegistry()
    core_sections(register)
    assert register.top_level() == {"gateway", "input", "jobs", "logging", "storage", "models", "aliases"}
    from imagegate._settings import GatewaySettings, StorageSettings

    assert set(StorageSettings.model_fields) == {"backend", "spool_dir", "retention_days", "max_size_gb",
                                                 "retention_grace_h", "gc_interval_s"}  # retention is core
    assert not {"max_body_mb", "rate_limit_rpm", "max_images", "cors_origins",
                "shutdown_timeout_s"} & set(GatewaySettings.model_fields)
    assert not {"mcp", "observability"} & set(Settings.model_fields)


def test_open_sections_take_any_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text('[models."my-model"]\nbase = "placeholder"\n[aliases]\nwhatever = "placeholder"\n')
    monkeypatch.setenv("IMAGEGATE_CONFIG", str(config))
    assert Settings().aliases == {"whatever": "placeholder"}
