"""One mapping from JSON Schema violations to InvalidRequest, for model parameters and MCP arguments."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate._catalog import ModelSpec, ParamSpec, validate_request
from imagegate._errors import InvalidRequest
from imagegate._schema_errors import check_schema

SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["prompt"],
    "properties": {"prompt": {"type": "string", "minLength": 1}, "steps": {"type": "integer", "maximum": 50, "multipleOf": 2},
                   "style": {"enum": ["flat", "photo"]}, "size": {"type": "string", "pattern": "^[0-9]+x[0-9]+$"}},
}


@pytest.mark.parametrize(("instance", "param", "message"), [
    ({}, "prompt", "prompt is required"),
    ({"prompt": ""}, "prompt", "prompt is empty"),
    ({"prompt": "x", "steps": 51}, "steps", "steps=51 is out of range; maximum 50"),
    ({"prompt": "x", "steps": "9"}, "steps", "steps must be of type integer, not str"),
    ({"prompt": "x", "steps": 7}, "steps", "steps=7 is not a multiple of 2"),
    ({"prompt": 5}, "prompt", "prompt must be of type string, not int"),
    ({"prompt": "x", "style": "oil"}, "style", "style='oil' is not allowed; allowed: flat, photo"),
    ({"prompt": "x", "size": "big"}, "size", "size='big' does not have the expected form (^[0-9]+x[0-9]+$)"),
    ({"prompt": "x", "colour": 1}, "colour", "unknown argument(s) colour; this tool takes: prompt, steps, style, size"),
])
def test_each_kind_of_violation_names_the_field_and_what_it_allows(
        instance: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_schema(SCHEMA, instance)
    assert caught.value.param == param
    assert caught.value.message == message


def test_a_valid_instance_passes() -> None:
    assert check_schema(SCHEMA, {"prompt": "x", "steps": 50, "style": "flat", "size": "64x64"}) is None


def test_other_violations_keep_jsonschemas_wording_unless_the_value_is_long() -> None:
    schema = {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}}
    with pytest.raises(InvalidRequest) as caught:
        check_schema(schema, {"tags": ["a", "a"]})
    assert caught.value.param == "tags" and caught.value.message == "tags: ['a', 'a'] has non-unique elements"
    with pytest.raises(InvalidRequest) as caught:
        check_schema(schema, {"tags": ["QUJD" * 100] * 2})
    assert caught.value.message == "tags: invalid value (uniqueItems)"


def test_long_values_are_never_repeated() -> None:
    secret = "QUJD" * 5000
    with pytest.raises(InvalidRequest) as caught:
        check_schema(SCHEMA, {"prompt": "x", "style": secret})
    assert secret[:40] not in caught.value.message and "20000 characters" in caught.value.message


def test_the_catalog_words_model_parameter_errors_the_same_way() -> None:
    spec = ModelSpec(id="m", provider="p", upstream="m", params={"steps": ParamSpec(type="integer")},
                     input_schema={"type": "object", "properties": {"steps": {"type": "integer", "maximum": 50}}})
    with pytest.raises(InvalidRequest) as caught:
        validate_request(spec, "generate", prompt="x", size=None, n=None, params={"steps": 51},
                         image_count=0, has_mask=False)
    assert caught.value.param == "steps" and caught.value.message == "steps=51 is out of range; maximum 50"
