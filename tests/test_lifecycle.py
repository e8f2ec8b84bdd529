"""Model lifecycle: retired models refused or translated, deprecated ones warned and counted, config
overrides, and the default model choice. Models come from ``imagegate.testing.lifecycle``."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from imagegate import hookimpl
from imagegate._catalog import SizeSpec
from imagegate._errors import InvalidRequest, ModelRetired
from imagegate._events import DeprecatedModelRequested, Event
from imagegate._gateway import Gateway
from imagegate._lifecycle import nearest_size
from imagegate._models import ImageRequest
from imagegate._settings import Settings
from imagegate.testing import build_gateway, temp_settings
from imagegate.testing.lifecycle import DEPRECATED_SHUTDOWN, LifecyclePlugin

KEY = {"lc": {"api_key": "lc-test-key"}}


class EventLog:
    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def track_event(self, gateway: Any, event: Event) -> None:
        self.events.append(event)


def make(tmp_path: Path, **sections: Any) -> tuple[Gateway, LifecyclePlugin, EventLog]:
    plugin, events = LifecyclePlugin(), EventLog()
    sections.setdefault("providers", KEY)
    gateway = build_gateway(temp_settings(tmp_path, **sections), ("lc", plugin), ("events", events))
    return gateway, plugin, events


def translate_mode(**gateway: Any) -> dict[str, Any]:
    return {"retired_models": "translate", **gateway}


# retired: refused ---------------------------------------------------------------------------------


async def test_a_retired_model_is_refused_naming_its_replacement_before_any_call(tmp_path: Path) -> None:
    gateway, plugin, events = make(tmp_path)
    await gateway.open()
    try:
        with pytest.raises(ModelRetired) as caught:
            await gateway.run("generate", ImageRequest(prompt="x", model="lc-old", size="1792x1024"))
    finally:
        await gateway.aclose()
    error = caught.value
    # the replacement chain is followed past the retired successor to the model that works
    assert error.replacement == "lc-new"
    assert error.message == "model lc-old was retired on 2026-05-12; use lc-new instead"
    assert (error.code, error.http_status, error.retryable, error.param) == ("model_retired", 410, False, "model")
    assert error.to_dict()["replacement"] == "lc-new"
    assert plugin.provider is not None and plugin.provider.calls == []
    assert [type(e).__name__ for e in events.events] == ["RequestFailed"]


async def test_a_dry_run_of_a_retired_model_is_refused_too(tmp_path: Path) -> None:
    gateway, _, _ = make(tmp_path)
    with pytest.raises(ModelRetired):
        await gateway.estimate("generate", ImageRequest(prompt="x", model="lc-old"))
    await gateway.aclose()


async def test_a_retired_model_without_replacement_is_refused_even_in_translate_mode(tmp_path: Path) -> None:
    gateway, plugin, _ = make(tmp_path, gateway=translate_mode())
    await gateway.open()
    try:
        with pytest.raises(ModelRetired) as caught:
            await gateway.run("generate", ImageRequest(prompt="x", model="lc-gone"))
    finally:
        await gateway.aclose()
    assert caught.value.replacement is None
    assert "no replacement" in caught.value.message
    assert plugin.provider is not None and plugin.provider.calls == []


# retired: translated ------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "quality", "style", "expected"), [
    ("1792x1024", "hd", "vivid", [
        {"param": "size", "from": "1792x1024", "to": "1536x1024"},
        {"param": "quality", "from": "hd", "to": "high"},
        {"param": "style", "from": "vivid", "to": None}]),
    ("1024x1792", "standard", None, [
        {"param": "size", "from": "1024x1792", "to": "1024x1536"},
        {"param": "quality", "from": "standard", "to": "medium"}]),
    ("256x256", None, "natural", [
        {"param": "size", "from": "256x256", "to": "1024x1024"},
        {"param": "style", "from": "natural", "to": None}]),
    ("512x512", None, None, [{"param": "size", "from": "512x512", "to": "1024x1024"}]),
    ("1024x1024", None, None, []),
])
async def test_translate_mode_runs_the_replacement_with_translated_parameters(
        tmp_path: Path, size: str, quality: str | None, style: str | None, expected: list[dict[str, Any]]) -> None:
    gateway, plugin, _ = make(tmp_path, gateway=translate_mode())
    await gateway.open()
    try:
        params = {k: v for k, v in {"quality": quality, "style": style}.items() if v}
        result = await gateway.run("generate", ImageRequest(prompt="x", model="lc-old", size=size, params=params))
    finally:
        await gateway.aclose()
    assert result.model == result.resolved_model == "lc-new"
    assert result.substitutions == [{"param": "model", "from": "lc-old", "to": "lc-new"}, *expected]
    assert plugin.provider is not None
    (call,) = plugin.provider.calls
    translated = {s["param"]: s["to"] for s in expected}
    assert call.model.id == "lc-new"
    assert call.size == translated.get("size", size)
    assert call.params == {k: v for k, v in {"quality": translated.get("quality", quality)}.items() if v}
    contract = result.contract()
    assert contract["resolved_model"] == "lc-new" and contract["substitutions"] == result.substitutions
    assert any("ran lc-new instead" in note for note in result.notes)


async def test_translate_mode_refuses_an_operation_the_replacement_lacks(tmp_path: Path, png: bytes) -> None:
    from imagegate._models import ImageInput

    gateway, plugin, _ = make(tmp_path, gateway=translate_mode())
    await gateway.open()
    try:
        with pytest.raises(ModelRetired) as caught:
            await gateway.run("variation", ImageRequest(model="lc-old", images=[ImageInput(kind="bytes", value=png)]))
    finally:
        await gateway.aclose()
    assert caught.value.replacement == "lc-new"
    assert "does not support variation" in caught.value.message
    assert plugin.provider is not None and plugin.provider.calls == []


async def test_translate_mode_clamps_n_and_prices_the_dry_run_on_the_replacement(tmp_path: Path) -> None:
    gateway, plugin, _ = make(tmp_path, gateway=translate_mode())
    estimate = await gateway.estimate("generate", ImageRequest(prompt="x", model="lc-old", n=9))
    await gateway.aclose()
    assert estimate["model"] == "lc-new" and estimate["resolved_model"] == "lc-new"
    assert estimate["substitutions"] == [{"param": "model", "from": "lc-old", "to": "lc-new"},
                                         {"param": "n", "from": 9, "to": 4}]
    assert estimate["parameters"]["n"] == 4
    assert plugin.provider is not None and plugin.provider.calls == []


def test_sizes_map_to_the_nearest_shape_then_the_nearest_pixel_count() -> None:
    listed = SizeSpec(values=["1024x1024", "1536x1024", "1024x1536", "auto"])
    assert nearest_size("1792x1024", listed) == "1536x1024"
    assert nearest_size("256x256", listed) == "1024x1024"
    rule = SizeSpec(multiple_of=16, min_side=256, max_side=2048, max_pixels=2048 * 1024)
    assert nearest_size("4096x2048", rule) == "2048x1024"
    assert nearest_size("100x50", rule) == "512x256"
    assert nearest_size("not-a-size", listed) is None


# deprecated ---------------------------------------------------------------------------------------


async def test_a_deprecated_model_runs_warns_once_and_emits_an_event_per_request(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import imagegate._lifecycle as lifecycle

    lifecycle._warned.discard(("lc", "lc-deprecated"))
    gateway, plugin, events = make(tmp_path)
    await gateway.open()
    try:
        with caplog.at_level(logging.WARNING, logger="imagegate.lifecycle"):
            first = await gateway.run("generate", ImageRequest(prompt="x", model="lc-deprecated"), frontend="http")
            second = await gateway.run("generate", ImageRequest(prompt="y", model="lc-deprecated"))
    finally:
        await gateway.aclose()
    deprecation = {"shutdown_date": DEPRECATED_SHUTDOWN.isoformat(), "replacement": "lc-new"}
    assert first.deprecation == second.deprecation == deprecation
    assert first.contract()["deprecation"] == deprecation and "resolved_model" not in first.contract()
    assert first.notes == [f"the model is deprecated and shuts down on {DEPRECATED_SHUTDOWN.isoformat()}; "
                           "use lc-new instead"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "imagegate.lifecycle"]
    assert warnings == [f"model lc-deprecated (lc): the model is deprecated and shuts down on "
                        f"{DEPRECATED_SHUTDOWN.isoformat()}; use lc-new instead"]
    seen = [e for e in events.events if isinstance(e, DeprecatedModelRequested)]
    assert [(e.model, e.provider, e.frontend, e.shutdown_date, e.replacement) for e in seen] == [
        ("lc-deprecated", "lc", "http", "2031-01-15", "lc-new"), ("lc-deprecated", "lc", "api", "2031-01-15", "lc-new")]
    assert plugin.provider is not None and len(plugin.provider.calls) == 2


async def test_an_active_model_result_has_no_lifecycle_fields(tmp_path: Path) -> None:
    gateway, _, events = make(tmp_path)
    await gateway.open()
    try:
        result = await gateway.run("generate", ImageRequest(prompt="x", model="lc-new"))
    finally:
        await gateway.aclose()
    assert set(result.contract()) == {"images", "model", "provider", "revised_prompt", "cost", "request_id"}
    assert not any(isinstance(e, DeprecatedModelRequested) for e in events.events)


# configuration overrides --------------------------------------------------------------------------


async def test_config_reactivates_a_retired_model(tmp_path: Path) -> None:
    gateway, plugin, _ = make(tmp_path, models={"lc-old": {"status": "active"}})
    await gateway.open()
    try:
        result = await gateway.run("generate", ImageRequest(prompt="x", model="lc-old", size="1792x1024",
                                                            params={"style": "vivid"}))
    finally:
        await gateway.aclose()
    assert result.model == "lc-old" and result.resolved_model is None
    assert plugin.provider is not None
    assert (plugin.provider.calls[0].size, plugin.provider.calls[0].params) == ("1792x1024", {"style": "vivid"})


def test_the_config_file_overrides_status_dates_and_replacement(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "imagegate.toml"
    config.write_text('[models."lc-new"]\nstatus = "deprecated"\nshutdown_date = 2030-02-01\n'
                      'replacement = "lc-deprecated"\n\n[models."lc-old"]\nstatus = "active"\n'
                      'shutdown_date = "2031-03-04"\n')
    monkeypatch.setenv("IMAGEGATE_CONFIG", str(config))
    gateway, _, _ = make(tmp_path)
    new, old = gateway.registry.lookup("lc-latest"), gateway.registry.lookup("lc-old")
    assert (new.status, new.shutdown_date, new.replacement) == ("deprecated", date(2030, 2, 1), "lc-deprecated")
    assert new.aliases == ["lc-latest"] and new.recommended  # everything else is kept
    assert (old.status, old.shutdown_date, old.replacement) == ("active", date(2031, 3, 4), "lc-older-successor")
    assert gateway.registry.lookup("lc/lc-image-old") is old


def test_a_bad_lifecycle_override_names_the_model(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest) as caught:
        make(tmp_path, models={"lc-old": {"status": "sunset"}})
    assert caught.value.param == "models.lc-old"


# the default model --------------------------------------------------------------------------------


def test_without_a_key_the_default_is_placeholder(tmp_path: Path) -> None:
    gateway, _, _ = make(tmp_path, providers={})
    assert gateway.default_model == "placeholder"


async def test_with_a_key_the_default_is_the_recommended_model(tmp_path: Path) -> None:
    gateway, plugin, _ = make(tmp_path)
    assert gateway.default_model == "lc-new"
    await gateway.open()
    try:
        result = await gateway.run("generate", ImageRequest(prompt="x"))
    finally:
        await gateway.aclose()
    assert result.model == "lc-new" and plugin.provider is not None and len(plugin.provider.calls) == 1


def test_an_explicit_default_wins_over_a_configured_key(tmp_path: Path) -> None:
    gateway, _, _ = make(tmp_path, gateway={"default_model": "placeholder"})
    assert gateway.default_model == "placeholder"


def test_a_retired_recommended_model_is_never_the_default(tmp_path: Path) -> None:
    gateway, _, _ = make(tmp_path, models={"lc-new": {"status": "retired"}})
    assert gateway.default_model == "placeholder"


def test_retired_models_setting_takes_only_refuse_or_translate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY__RETIRED_MODELS", "translate")
    assert Settings().gateway.retired_models == "translate"
    monkeypatch.setenv("GATEWAY__RETIRED_MODELS", "ignore")
    with pytest.raises(InvalidRequest) as caught:
        Settings()
    assert caught.value.param == "GATEWAY__RETIRED_MODELS"
