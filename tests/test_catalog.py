from __future__ import annotations

from typing import Any

import pytest

from imagegate._catalog import ModelSpec, ParamSpec, Requirement, SizeSpec, validate_request
from imagegate._errors import InvalidRequest


def spec(**overrides: Any) -> ModelSpec:
    base: dict[str, Any] = {
        "id": "m1", "provider": "p", "upstream": "m1", "operations": ["generate", "edit"],
        "prompt_max_length": 20, "sizes": SizeSpec(values=["1024x1024", "auto"]), "n_max": 4,
        "params": {
            "quality": ParamSpec(enum=["low", "high"], default="low"),
            "output_format": ParamSpec(enum=["png", "jpeg", "webp"], default="png"),
            "background": ParamSpec(enum=["transparent", "opaque", "auto"]),
            "compression": ParamSpec(type="integer", minimum=0, maximum=100),
            "fast": ParamSpec(type="boolean"),
            "fidelity": ParamSpec(enum=["low", "high"], operations=["edit"]),
        },
        "requirements": [
            Requirement(when={"background": ["transparent"]}, then={"output_format": ["png", "webp", None]}),
            Requirement(when={"output_format": ["png"]}, then={"compression": [None]}),
        ],
        "max_input_images": 2, "mask": True,
    }
    base.update(overrides)
    return ModelSpec(**base)


def check(model: ModelSpec | None = None, operation: str = "generate", **kw: Any) -> Any:
    args: dict[str, Any] = {"prompt": "a cat", "size": None, "n": None, "params": {}}
    args.update(kw)
    return validate_request(model or spec(), operation, **args)  # type: ignore[arg-type]


def error(**kw: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        check(**kw)
    return caught.value


def test_valid_request_passes_with_defaults() -> None:
    valid = check(params={"quality": "high"}, size="auto", n=3)
    assert (valid.n, valid.size, valid.params) == (3, "auto", {"quality": "high"})
    assert valid.effective(spec())["output_format"] == "png"


@pytest.mark.parametrize(("kw", "param", "fragment"), [
    ({"prompt": ""}, "prompt", "empty"),
    ({"prompt": "   "}, "prompt", "empty"),
    ({"prompt": "x" * 21}, "prompt", "at most 20"),
    ({"size": "512x512"}, "size", "1024x1024, auto"),
    ({"n": 0}, "n", "1 to 4"),
    ({"n": 5}, "n", "1 to 4"),
    ({"n": True}, "n", "1 to 4"),
    ({"params": {"quality": "ultra"}}, "quality", "allowed: low, high"),
    ({"params": {"compression": 101}}, "compression", "from 0 to 100"),
    ({"params": {"compression": "50"}}, "compression", "not a integer"),
    ({"params": {"fast": 1}}, "fast", "not a boolean"),
    ({"params": {"style": "vivid"}}, "style", "no parameter 'style'"),
    ({"params": {"fidelity": "high"}}, "fidelity", "no parameter 'fidelity' for generate"),
    ({"params": {"background": "transparent", "output_format": "jpeg"}}, "output_format", "png, webp"),
    ({"params": {"compression": 50}}, "compression", "takes no compression when output_format=png"),
])
def test_errors_name_the_parameter_the_value_and_the_allowed_values(kw: dict[str, Any], param: str,
                                                                     fragment: str) -> None:
    exc = error(**kw)
    assert exc.param == param
    assert fragment in exc.message
    assert exc.code == "invalid_request" and not exc.retryable


def test_requirement_satisfied_when_values_allowed() -> None:
    ok = check(params={"background": "transparent", "output_format": "webp", "compression": 80})
    assert ok.params["compression"] == 80


def test_operation_not_supported() -> None:
    exc = error(operation="variation", prompt=None)
    assert exc.param == "model" and "generate, edit" in exc.message


def test_images_checked_per_operation() -> None:
    assert error(image_count=1).param == "image"
    with pytest.raises(InvalidRequest) as caught:
        check(operation="edit", image_count=0)
    assert caught.value.param == "image"
    with pytest.raises(InvalidRequest) as caught:
        check(operation="edit", image_count=3)
    assert "at most 2" in caught.value.message
    assert check(operation="edit", image_count=2, has_mask=True).params == {}
    assert check(operation="edit", params={"fidelity": "high"}, image_count=1).params == {"fidelity": "high"}


def test_size_rule() -> None:
    rule = SizeSpec(multiple_of=16, min_side=256, max_side=2048, max_pixels=2048 * 1536, max_aspect_ratio=3)
    model = spec(sizes=rule)
    assert check(model, size="1536x1024").size == "1536x1024"
    for bad in ("1000x1000", "128x128", "4096x1024", "2048x2048", "256x1024", "big"):
        with pytest.raises(InvalidRequest) as caught:
            check(model, size=bad)
        assert caught.value.param == "size"
        assert "multiple of 16" in caught.value.message


def test_model_without_sizes_points_at_aspect_ratio() -> None:
    model = spec(sizes=None, aspect_ratios=["1:1", "16:9"])
    with pytest.raises(InvalidRequest) as caught:
        check(model, size="1024x1024")
    assert "aspect_ratio" in caught.value.message


def test_full_json_schema_is_applied() -> None:
    model = spec(params={"steps": ParamSpec(type="integer")},
                 input_schema={"type": "object", "properties": {"steps": {"type": "integer", "maximum": 50}}})
    assert check(model, params={"steps": 50}).params == {"steps": 50}
    with pytest.raises(InvalidRequest) as caught:
        check(model, params={"steps": 51})
    assert caught.value.param == "steps"


def test_coerce_converts_cli_strings_to_declared_types() -> None:
    assert ParamSpec(type="integer").coerce("7") == 7
    assert ParamSpec(type="number").coerce("0.5") == 0.5
    assert ParamSpec(type="boolean").coerce("true") is True
    assert ParamSpec(type="boolean").coerce("off") is False
    assert ParamSpec(type="integer").coerce("seven") == "seven"  # left for validation to reject


def test_reserved_names_cannot_be_parameters() -> None:
    with pytest.raises(ValueError, match="common fields"):
        spec(params={"size": ParamSpec()})


def test_summary_lists_capabilities() -> None:
    summary = spec().summary()
    assert summary["qualified_id"] == "p/m1"
    assert summary["parameters"]["quality"]["enum"] == ["low", "high"]
    assert summary["n"] == {"min": 1, "max": 4}


@pytest.mark.parametrize("kw", [
    {"params": {"k" * 1_000_000: "v"}},  # a 1 MB parameter name
    {"params": {"quality": "q" * 1_000_000}},  # a 1 MB value
    {"params": {"compression": "9" * 1_000_000}},
    {"size": "s" * 1_000_000},
    {"params": {"background": "transparent", "output_format": "j" * 1_000_000}},
])
def test_messages_quote_at_most_a_hundred_characters_of_what_the_caller_sent(kw: dict[str, Any]) -> None:
    exc = error(**kw)
    assert len(exc.message) < 400
    assert "…" in exc.message
