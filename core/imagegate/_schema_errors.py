"""JSON Schema violations as :class:`~imagegate._errors.InvalidRequest`, worded the same everywhere.

The catalog checks model parameters against a model's ``input_schema`` and MCP checks tool
arguments against the advertised tool schema; both name the first offending field and what it
allows. Messages never repeat long values, so base64 image data cannot end up in an error.
"""

from __future__ import annotations

from typing import Any

from ._errors import InvalidRequest

__all__ = ["check_schema"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"<{len(str(value))} characters>"


def check_schema(schema: dict[str, Any], instance: dict[str, Any], *, noun: str = "argument",
                 owner: str = "this tool") -> None:
    """Raise ``InvalidRequest`` naming the first ``noun`` of ``instance`` that breaks ``schema``
    (``owner`` is who takes the fields, e.g. a model id)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(instance))
    if error is None:
        return
    kind, limit, value = error.validator, error.validator_value, error.instance
    param = str(error.absolute_path[0]) if error.absolute_path else None
    if kind == "required":
        param = next(name for name in limit if name not in value)
        msg = f"{param} is required"
    elif kind == "additionalProperties":
        extra = sorted(set(value) - set(schema.get("properties", {})))
        param = extra[0]
        msg = f"unknown {noun}(s) {', '.join(extra)}; {owner} takes: {', '.join(schema.get('properties', {}))}"
    elif kind == "type":
        msg = f"{param} must be of type {limit}, not {type(value).__name__}"
    elif kind == "enum":
        msg = f"{param}={_short(value)} is not allowed; allowed: {', '.join(map(str, limit))}"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        msg = f"{param}={_short(value)} is out of range; {kind} {limit:g}"
    elif kind == "minLength":
        msg = f"{param} is empty" if limit == 1 else f"{param} is shorter than {limit} characters"
    elif kind == "maxLength":
        msg = f"{param} is longer than {limit} characters"
    elif kind == "pattern":
        msg = f"{param}={_short(value)} does not have the expected form ({limit})"
    elif kind == "multipleOf":
        msg = f"{param}={_short(value)} is not a multiple of {limit:g}"
    elif kind in ("minItems", "maxItems"):
        msg = f"{param} needs {'at least' if kind == 'minItems' else 'at most'} {limit} item(s)"
    else:  # jsonschema's own wording, unless it would repeat a long value
        detail = error.message if len(repr(value)) <= 60 else f"invalid value ({kind})"
        msg = f"{param or noun + 's'}: {detail}"
    raise InvalidRequest(msg, param=param)
