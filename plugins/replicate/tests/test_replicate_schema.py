"""Catalog entries: the built-in models' rules, and specs built from a model's OpenAPI schema."""

from __future__ import annotations

import pytest

from imagegate._catalog import validate_request
from imagegate._errors import InvalidRequest
from imagegate_replicate.catalog import flux_dev, flux_pro, recraft_svg
from imagegate_replicate.fake_schemas import COMMUNITY, COMMUNITY_MODEL, COMMUNITY_VERSION, FLUX_DEV, RECRAFT_SVG
from imagegate_replicate.schema import spec_from_schema


def _check(spec, **kwargs):
    kwargs.setdefault("prompt", "a cat")
    kwargs.setdefault("size", None)
    kwargs.setdefault("n", None)
    kwargs.setdefault("params", {})
    return validate_request(spec, "generate", **kwargs)


def test_flux_dev_takes_aspect_ratio_not_size() -> None:
    spec = flux_dev()
    assert _check(spec, n=4, params={"aspect_ratio": "21:9", "megapixels": "0.25"}).n == 4
    with pytest.raises(InvalidRequest) as info:
        _check(spec, size="1024x1024")
    assert info.value.param == "size" and "aspect_ratio" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        _check(spec, n=5)
    assert info.value.param == "n"
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"num_inference_steps": 51})
    assert info.value.param == "num_inference_steps"


def test_flux_pro_width_only_with_custom_aspect_ratio() -> None:
    spec = flux_pro()
    assert spec.n_param is None and spec.n_max == 4
    ok = _check(spec, params={"aspect_ratio": "custom", "width": 512, "height": 768})
    assert ok.params["width"] == 512
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"width": 512})
    assert info.value.param == "width"
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"aspect_ratio": "custom", "width": 500, "height": 512})
    assert info.value.param == "width" and "multiple of 32" in info.value.message
    with pytest.raises(InvalidRequest):
        _check(spec, params={"aspect_ratio": "custom"})


def test_recraft_sizes_and_styles() -> None:
    spec = recraft_svg()
    assert _check(spec, size="1707x1024", params={"style": "linocut"}).size == "1707x1024"
    with pytest.raises(InvalidRequest) as info:
        _check(spec, size="512x512")
    assert info.value.param == "size"
    assert spec.output_formats == ["svg"]


def test_spec_from_cog_schema_resolves_refs_and_count_field() -> None:
    spec = spec_from_schema("black-forest-labs/flux-dev", FLUX_DEV, version=None)
    assert spec.params["aspect_ratio"].enum[:3] == ["1:1", "16:9", "21:9"]
    assert spec.params["aspect_ratio"].default == "1:1"
    assert spec.params["num_inference_steps"].maximum == 50
    assert spec.n_param == "num_outputs" and spec.n_max == 4
    assert "num_outputs" not in spec.params and "prompt" not in spec.params
    assert spec.format_param == "output_format" and spec.output_formats == ["webp", "jpg", "png"]
    assert "prompt" not in spec.input_schema["properties"]
    assert "prompt" not in spec.input_schema.get("required", [])
    assert "$ref" not in str(spec.input_schema)
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"aspect_ratio": "7:3"})
    assert info.value.param == "aspect_ratio"


def test_community_schema_drops_what_the_gateway_cannot_send() -> None:
    spec = spec_from_schema(f"{COMMUNITY_MODEL}:{COMMUNITY_VERSION}", COMMUNITY, version=COMMUNITY_VERSION)
    assert spec.options["version"] == COMMUNITY_VERSION
    assert spec.n_param is None and spec.n_max == 4
    assert set(spec.params) == {"width", "scheduler", "guidance_scale"}
    assert spec.params["scheduler"].enum == ["DDIM", "K_EULER", "DPMSolverMultistep"]
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"width": 500})
    assert info.value.param == "width" and "multiple of 64" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        _check(spec, params={"lora_weights": "x"})
    assert info.value.param == "lora_weights"


def test_size_enum_becomes_the_gateway_size() -> None:
    spec = spec_from_schema("recraft-ai/recraft-v3-svg", RECRAFT_SVG, version=None)
    assert spec.size_param == "size" and spec.default_size == "1024x1024"
    assert spec.sizes is not None and spec.sizes.accepts("1365x1024") and not spec.sizes.accepts("512x512")
    assert "size" not in spec.params
