"""The HTTP front-end owns its ``GATEWAY__*`` limits: declared to the core's section, defaults here."""

from __future__ import annotations

import pytest

from imagegate._errors import InvalidRequest
from imagegate._settings import GatewaySettings, Settings
from imagegate_http.options import HttpOptions
from imagegate_http.settings import HttpSettings


def test_limits_are_read_from_the_variables_of_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY__CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("GATEWAY__MAX_IMAGES", "4")
    monkeypatch.setenv("GATEWAY__SHUTDOWN_TIMEOUT_S", "5")
    monkeypatch.setenv("GATEWAY__MAX_BODY_MB", "2")
    monkeypatch.setenv("GATEWAY__RATE_LIMIT_RPM", "30")
    monkeypatch.setenv("GATEWAY__API_KEYS", "k1")
    options = HttpOptions.from_settings(Settings())
    assert options.cors_origins == ["https://a.example", "https://b.example"]
    assert (options.max_images, options.shutdown_timeout_s, options.rate_limit_rpm) == (4, 5.0, 30)
    assert options.max_body_bytes == 2 * 1024 * 1024 and options.api_keys == ["k1"]


def test_defaults_are_defined_once() -> None:
    options = HttpOptions.from_settings(Settings())
    assert options.model_dump(include=set(HttpSettings.model_fields)) == HttpSettings().model_dump()
    assert not set(HttpSettings.model_fields) & set(GatewaySettings.model_fields)


def test_a_bad_limit_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY__MAX_IMAGES", "many")
    with pytest.raises(InvalidRequest) as caught:
        Settings()
    assert caught.value.param == "GATEWAY__MAX_IMAGES"
