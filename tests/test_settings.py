"""Configuration: nested env over a TOML file over defaults; fallbacks; lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from imagegate._errors import InvalidRequest
from imagegate._settings import ProviderSettings, Settings


class KeyedSettings(ProviderSettings):
    key_env_var = "EXAMPLE_API_KEY"
    api_key: SecretStr | None = None


def test_env_nested_with_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDERS__OPENAI__TIMEOUT_S", "12.5")
    monkeypatch.setenv("STORAGE__BACKEND", "s3")
    monkeypatch.setenv("GATEWAY__API_KEYS", "a, b,c")
    monkeypatch.setenv("INPUT__ALLOWED_HOSTS", '["x.example", "y.example"]')
    settings = Settings()
    assert settings.provider("openai").timeout_s == 12.5
    assert settings.storage.backend == "s3"
    assert settings.gateway.api_keys == ["a", "b", "c"]
    assert settings.input.allowed_hosts == ["x.example", "y.example"]


def test_toml_file_under_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text('[gateway]\ndefault_model = "flux-dev"\nurl_ttl_s = 60\n'
                      '[models.my-model]\nbase = "placeholder"\n[aliases]\nfast = "placeholder"\n')
    monkeypatch.setenv("IMAGEGATE_CONFIG", str(config))
    monkeypatch.setenv("GATEWAY__URL_TTL_S", "120")
    settings = Settings()
    assert settings.gateway.default_model == "flux-dev"
    assert settings.gateway.url_ttl_s == 120  # environment wins
    assert settings.models == {"my-model": {"base": "placeholder"}}
    assert settings.aliases == {"fast": "placeholder"}


def test_conventional_key_variable_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_API_KEY", "from-fallback")
    assert Settings().provider("example", KeyedSettings).api_key.get_secret_value() == "from-fallback"  # type: ignore[attr-defined]
    monkeypatch.setenv("PROVIDERS__EXAMPLE__API_KEY", "from-nested")
    assert Settings().provider("example", KeyedSettings).api_key.get_secret_value() == "from-nested"  # type: ignore[attr-defined]


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDERS__OPENAI__MAX_RETRIES", "lots")
    with pytest.raises(InvalidRequest) as caught:
        Settings().provider("openai")
    assert caught.value.param == "PROVIDERS__OPENAI__MAX_RETRIES"


def test_defaults_suit_slow_image_models() -> None:
    limits = ProviderSettings()
    assert limits.timeout_s >= 300 and limits.max_retries >= 1
    assert Settings().gateway.default_model is None  # the gateway chooses (see test_lifecycle.py)


@pytest.mark.parametrize(("variable", "value"), [
    ("GATEWAY__URL_TTL_S", "abc"), ("LOGGING__LEVEL", "chatty"), ("STORAGE__LOCAL", "[1]"),
])
def test_bad_core_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidRequest) as caught:
        Settings()
    assert caught.value.param == variable
    assert caught.value.message.startswith(f"configuration {variable}: ")


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGGING__LEVEL", "warning")
    assert Settings().logging.level == "WARNING"
