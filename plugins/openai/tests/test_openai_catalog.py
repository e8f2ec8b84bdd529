"""Every parameter is checked before the call: bad requests fail invalid_request with zero
upstream calls, through a real gateway. Also model resolution and settings."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate import ImageInput, ImageRequest
from imagegate._errors import InvalidRequest, NotFound
from imagegate_openai.testing import image_bytes
from imagegate.testing.mock_http import mock_upstream


PNG = image_bytes(64, 64)


def edit(**kwargs: Any) -> ImageRequest:
    kwargs.setdefault("images", [ImageInput(kind="bytes", value=PNG)])
    kwargs.setdefault("prompt", "change it")
    return ImageRequest(**kwargs)


SUN = "gpt-image-2.6-sunburst"
PNG_MASK = ImageInput(kind="bytes", value=image_bytes(64, 64, transparent=True))


@pytest.mark.parametrize(("operation", "request_", "param"), [
    ("generate", ImageRequest(prompt="x", model=SUN, size="big"), "size"),
    ("generate", ImageRequest(prompt="x", model=SUN, size="1000x1000"), "size"),
    ("generate", ImageRequest(prompt="x", model=SUN, size="3856x1280"), "size"),
    ("generate", ImageRequest(prompt="x", model=SUN, size="3840x2176"), "size"),
    ("generate", ImageRequest(prompt="x", model=SUN, size="3072x1008"), "size"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"quality": "hd"}), "quality"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-2", params={"quality": "xhigh"}), "quality"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-2-2026-04-21", params={"quality": "max"}), "quality"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"complexity": "max"}), "complexity"),
    ("generate", ImageRequest(prompt="x", model=SUN, n=11), "n"),
    ("generate", ImageRequest(prompt="x" * 32001, model=SUN), "prompt"),
    ("generate", ImageRequest(prompt="x", model=SUN,
                              params={"background": "transparent", "output_format": "jpeg"}), "output_format"),
    ("generate", ImageRequest(prompt="x", model=SUN,
                              params={"background": "transparent", "output_format": "gif"}), "output_format"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_compression": 50}), "output_compression"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "gif", "output_compression": 50}),
     "output_compression"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "svg", "output_compression": 50}),
     "output_compression"),
    ("generate", ImageRequest(prompt="x", model=SUN,
                              params={"output_format": "jpeg", "output_compression": 101}), "output_compression"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "bmp"}), "output_format"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"frame_count": 4}), "frame_count"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "gif", "frame_count": 1}),
     "frame_count"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "gif", "frame_count": 17}),
     "frame_count"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "webp", "frame_duration_ms": 100}),
     "frame_duration_ms"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "gif", "partial_images": 1}),
     "partial_images"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"svg_model": "gpt-5"}), "svg_model"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"svg_reasoning_effort": "low"}),
     "svg_reasoning_effort"),
    ("generate", ImageRequest(prompt="x", model=SUN, n=2, params={"output_format": "svg"}), "n"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "svg", "svg_reasoning_effort": "huge"}),
     "svg_reasoning_effort"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"output_format": "svg", "svg_reasoning_effort": "low"}),
     "svg_model"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"response_format": "url"}), "response_format"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"style": "vivid"}), "style"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"input_fidelity": "high"}), "input_fidelity"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"moderation": "off"}), "moderation"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"partial_images": 4}), "partial_images"),
    ("generate", ImageRequest(prompt="x", model=SUN, params={"safety_identifier": "u" * 257}), "safety_identifier"),
    ("generate", ImageRequest(prompt="x", model="responses/gpt-4.1-mini", size="1792x1000"), "size"),
    ("edit", edit(model=SUN, params={"moderation": "low"}), "moderation"),
    ("edit", edit(model="gpt-image-2", params={"input_fidelity": "high"}), "input_fidelity"),
    ("edit", edit(model=SUN, params={"input_fidelity": "medium"}), "input_fidelity"),
    ("edit", edit(model=SUN, images=[ImageInput(kind="bytes", value=PNG)] * 17), "image"),
    ("edit", edit(model=SUN, mask=ImageInput(kind="bytes", value=image_bytes(64, 64, "jpeg"))), "mask"),
    ("edit", edit(model=SUN, mask=ImageInput(kind="bytes", value=image_bytes(32, 32))), "mask"),
    ("edit", edit(model=SUN, mask=PNG_MASK, params={"output_format": "gif"}), "mask"),
    ("edit", edit(model=SUN, mask=PNG_MASK, markup=PNG_MASK), "markup"),
    ("edit", edit(model="gpt-image-2", markup=PNG_MASK), "markup"),
    ("edit", edit(model=SUN, markup=ImageInput(kind="bytes", value=image_bytes(64, 64, "jpeg"))), "markup"),
    ("edit", edit(model=SUN, markup=ImageInput(kind="bytes", value=image_bytes(64, 32, transparent=True))),
     "markup"),
    ("generate", ImageRequest(prompt="x", model=SUN, markup=PNG_MASK), "markup"),
    ("variation", ImageRequest(model=SUN, images=[ImageInput(kind="bytes", value=PNG)]), "model"),
])
async def test_invalid_requests_never_reach_openai(make_gateway: Any, operation: str, request_: ImageRequest,
                                                   param: str) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        with pytest.raises(InvalidRequest) as info:
            await gateway.run(operation, request_)
        assert not mock.requests
    assert info.value.param == param


async def test_any_responses_model_resolves(make_gateway: Any) -> None:
    gateway = await make_gateway()
    spec = await gateway.resolve_model("responses/gpt-5")
    assert (spec.id, spec.api, spec.options["mainline_model"], spec.n_param) == ("responses/gpt-5", "responses",
                                                                                "gpt-5", None)
    assert (await gateway.resolve_model("openai/responses/o3")).id == "responses/o3"
    assert (await gateway.resolve_model("openai/gpt-image-2.6-flare")).id == "gpt-image-2.6-flare"
    with pytest.raises(NotFound):
        await gateway.resolve_model("responses/not a model")


async def test_disabled_provider_registers_nothing(make_gateway: Any) -> None:
    gateway = await make_gateway(enabled=False)
    assert "openai" not in gateway.registry.providers
    assert not [m for m in gateway.models() if m.provider == "openai"]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagegate import Settings
    from imagegate_openai.settings import OpenAISettings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    monkeypatch.setenv("PROVIDERS__OPENAI__BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("PROVIDERS__OPENAI__ORGANIZATION", "org-1")
    section = Settings().provider("openai", OpenAISettings)
    assert isinstance(section, OpenAISettings)
    assert section.key() == "sk-fallback" and section.base_url == "http://127.0.0.1:9/v1"
    assert section.organization == "org-1" and "sk-fallback" not in repr(section)
    monkeypatch.setenv("PROVIDERS__OPENAI__API_KEY", "sk-primary")
    assert Settings().provider("openai", OpenAISettings).key() == "sk-primary"


# the 2026 catalogue -------------------------------------------------------------------------------

from datetime import date  # noqa: E402

from imagegate._catalog import validate_request  # noqa: E402
from imagegate._errors import ModelRetired  # noqa: E402
from imagegate_openai.catalog import CURRENT_MODELS, builtin_models  # noqa: E402

MODELS = {spec.id: spec for spec in builtin_models()}


def check(model: str, operation: str = "generate", *, n: int = 1, size: str | None = None,
          **params: Any) -> Any:
    return validate_request(MODELS[model], operation, prompt="x", size=size, n=n, params=params,
                            image_count=1 if operation == "edit" else 0)


def test_current_models_and_their_lifecycle() -> None:
    current = [spec.id for spec in MODELS.values() if spec.status == "active" and spec.api == "images"]
    assert current == list(CURRENT_MODELS) == [
        "gpt-image-2.6-sunburst", "gpt-image-2.6-flare", "gpt-image-2.5-sunburst",
        "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08",
        "gpt-image-2", "gpt-image-2-2026-04-21"]
    assert [spec.id for spec in MODELS.values() if spec.recommended] == [SUN]
    tools = {spec.id: spec.tool for spec in MODELS.values() if spec.tool}
    assert sorted(tools) == ["gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.6-flare",
                             SUN]
    assert {hint.name for hint in tools.values()} == {"generate-openai"}
    assert [model for model, hint in tools.items() if hint.default] == [SUN]
    assert all(spec.operations == ["generate", "edit"] for spec in MODELS.values() if spec.id in CURRENT_MODELS)


@pytest.mark.parametrize(("model", "shutdown", "replacement"), [
    ("dall-e-2", date(2026, 5, 12), SUN),
    ("dall-e-3", date(2026, 5, 12), SUN),
    ("gpt-image-1", date(2026, 10, 23), "gpt-image-2.5-sunburst"),
    ("gpt-image-1-mini", date(2026, 12, 1), SUN),
    ("gpt-image-1.5", date(2026, 12, 1), SUN),
    ("chatgpt-image-latest", date(2026, 12, 1), SUN),
])
async def test_retired_models_are_refused_before_any_call(make_gateway: Any, model: str, shutdown: date,
                                                          replacement: str) -> None:
    spec = MODELS[model]
    assert (spec.status, spec.shutdown_date, spec.replacement, spec.tool) == ("retired", shutdown, replacement, None)
    assert spec.params, "a retired entry keeps its old parameters (for translation)"
    gateway = await make_gateway()
    with mock_upstream() as mock:
        with pytest.raises(ModelRetired) as info:
            await gateway.run("generate", ImageRequest(prompt="x", model=model))
        assert not mock.requests
    assert info.value.replacement == replacement and str(shutdown) in info.value.message


def test_no_current_model_offers_variation() -> None:
    assert not [spec.id for spec in MODELS.values() if spec.status != "retired" and "variation" in spec.operations]


@pytest.mark.parametrize(("model", "qualities"), [
    ("gpt-image-2", ["auto", "low", "medium", "high"]),
    ("gpt-image-2-2026-04-21", ["auto", "low", "medium", "high"]),
    ("gpt-image-2.5-sunburst", ["auto", "low", "medium", "high", "xhigh", "max"]),
    ("gpt-image-2.5-flare-2026-09-08", ["auto", "low", "medium", "high", "xhigh", "max"]),
    ("gpt-image-2.6-sunburst", ["auto", "low", "medium", "high", "xhigh", "max"]),
    ("gpt-image-2.6-flare", ["auto", "low", "medium", "high", "xhigh", "max"]),
])
def test_quality_values_per_model(model: str, qualities: list[str]) -> None:
    assert MODELS[model].params["quality"].enum == qualities
    for quality in qualities:
        assert check(model, quality=quality).params == {"quality": quality}


@pytest.mark.parametrize("params", [
    {"complexity": "low"}, {"complexity": "high"},
    {"background": "transparent", "output_format": "webp"}, {"background": "opaque", "output_format": "jpeg"},
    {"background": "transparent"},
    {"moderation": "low"},
    {"output_format": "jpeg", "output_compression": 0}, {"output_format": "webp", "output_compression": 100},
    {"output_format": "gif"}, {"output_format": "gif", "frame_count": 2, "frame_duration_ms": 0},
    {"output_format": "gif", "frame_count": 16, "frame_duration_ms": 655350},
    {"output_format": "svg"}, {"output_format": "svg", "svg_model": "gpt-5", "svg_reasoning_effort": "max"},
    {"output_format": "svg", "svg_reasoning_effort": "none", "svg_model": "x"},
    {"partial_images": 0}, {"partial_images": 3}, {"output_format": "jpeg", "partial_images": 2},
    {"safety_identifier": "user-hash"}, {"user": "someone"}, {"safety_identifier": "a", "user": "b"},
])
def test_every_parameter_is_accepted_where_the_sdk_allows_it(params: dict[str, Any]) -> None:
    for model in ("gpt-image-2", "gpt-image-2.5-flare", SUN):
        assert check(model, **params).params == params


def test_edit_only_and_model_only_parameters() -> None:
    for model in ("gpt-image-2.5-sunburst", SUN, "gpt-image-2.6-flare"):
        assert check(model, "edit", input_fidelity="high").params == {"input_fidelity": "high"}
        assert MODELS[model].markup
    assert "input_fidelity" not in MODELS["gpt-image-2"].params and not MODELS["gpt-image-2"].markup
    assert check(SUN, "edit", output_format="svg", svg_reasoning_effort="low").params["svg_reasoning_effort"] == "low"


def test_refusals_name_the_parameter_the_value_and_the_rule() -> None:
    with pytest.raises(InvalidRequest) as info:
        check("gpt-image-2", quality="xhigh")
    assert info.value.param == "quality" and "'xhigh'" in info.value.message
    assert "auto, low, medium, high" in info.value.message and "gpt-image-2" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        check(SUN, n=2, output_format="svg")
    assert info.value.param == "n" and "n is 2" in info.value.message and "output_format=svg" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        check(SUN, frame_count=4)
    assert info.value.param == "frame_count" and "takes no frame_count when output_format" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        check(SUN, size="4000x1000")
    assert info.value.param == "size" and "'4000x1000'" in info.value.message
    assert "multiple of 16" in info.value.message and "aspect ratio at most 3:1" in info.value.message


@pytest.mark.parametrize(("size", "ok"), [
    ("1024x1024", True), ("1536x1024", True), ("1024x1536", True), ("auto", True),
    ("1536x864", True), ("3840x2160", True), ("2160x3840", True), ("3840x1280", True), ("1280x3840", True),
    ("16x16", True), ("2560x1440", True),
    ("3840x2176", False),  # over 3840x2160 pixels
    ("3856x1296", False),  # a side over 3840
    ("3072x1008", False),  # wider than 3:1
    ("1008x3072", False),  # taller than 1:3
    ("1000x1000", False), ("1024x1030", False), ("1024", False), ("0x0", False),
])
def test_size_edges(size: str, ok: bool) -> None:
    for model in (SUN, "gpt-image-2", "gpt-image-2.5-flare"):
        assert MODELS[model].sizes.accepts(size) is ok
