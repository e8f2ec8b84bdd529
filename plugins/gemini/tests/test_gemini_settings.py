"""``PROVIDERS__GEMINI__*`` settings: the key's fallbacks, the endpoint, the shared limits."""

from __future__ import annotations

import pytest

from imagegate import Settings
from imagegate_gemini.provider import GeminiProvider
from imagegate_gemini.settings import DEFAULT_BASE_URL, GeminiSettings


def _section(monkeypatch: pytest.MonkeyPatch, **env: str) -> GeminiSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    section = Settings().provider("gemini", GeminiSettings)
    assert isinstance(section, GeminiSettings)
    return section


def test_the_providers_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    section = _section(monkeypatch, PROVIDERS__GEMINI__API_KEY="AIza-own", GEMINI_API_KEY="AIza-gemini",
                       GOOGLE_API_KEY="AIza-google")
    assert section.key() == "AIza-own"


def test_gemini_api_key_then_google_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _section(monkeypatch, GEMINI_API_KEY="AIza-gemini", GOOGLE_API_KEY="AIza-google").key() == "AIza-gemini"
    monkeypatch.delenv("GEMINI_API_KEY")
    assert _section(monkeypatch).key() == "AIza-google"
    monkeypatch.delenv("GOOGLE_API_KEY")
    assert _section(monkeypatch).key() is None


def test_endpoint_and_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _section(monkeypatch).base_url == DEFAULT_BASE_URL
    section = _section(monkeypatch, PROVIDERS__GEMINI__BASE_URL="http://127.0.0.1:9/v1beta/",
                       PROVIDERS__GEMINI__TIMEOUT_S="30", PROVIDERS__GEMINI__MAX_CONCURRENCY="2",
                       PROVIDERS__GEMINI__RPM="10", PROVIDERS__GEMINI__MAX_RETRIES="1")
    assert section.base_url == "http://127.0.0.1:9/v1beta"
    assert (section.timeout_s, section.max_concurrency, section.rpm, section.max_retries) == (30, 2, 10, 1)


def test_the_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    section = _section(monkeypatch, GEMINI_API_KEY="AIzaSySECRET_SECRET_SECRET_SECRET_0000")
    provider = GeminiProvider(section)
    for text in (repr(section), str(section.model_dump()), repr(provider), section.model_dump_json()):
        assert "SECRET" not in text
