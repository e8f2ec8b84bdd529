"""JSON Schemas of the tools, generated from the model catalog.

An assistant sees each model's sizes, formats and parameter ranges as enums and bounds, and a
description that says what each model is good for. Schemas are advertised, not trusted: every
call is checked against them (and then against the catalog) before any upstream call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import ModelSpec, Operation, ParamSpec

    from .settings import Deliver

__all__ = [
    "MODELS_SCHEMA",
    "RESULT_SCHEMA",
    "image_input_description",
    "model_list",
    "tool_input_schema",
]

COMMON = ("prompt", "model", "size", "n", "images", "image", "mask", "markup", "params", "deliver", "grid", "cells")


RESULT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["model", "cost"]}
"""What every generating tool's structured result has: the result object of CONTRACT.md
(``ImageResult.contract()``: ``images``, ``model``, ``provider``, ``cost``, ``request_id``, ...) or,
for a call still running at the soft deadline, ``{"status": "pending", "job_id", "model", "cost"}``.
In brief (the fields both have), since it goes with every generating tool and ``tools/list`` must
stay small. The first text block of a result is the same JSON."""

MODELS_SCHEMA: dict[str, Any] = {"type": "object", "required": ["models", "default_model"]}
"""In brief, so ``tools/list`` stays small: each of ``models`` has ``id``, ``provider``,
``operations``, ``ready`` and what describes the model (the text block is the same JSON)."""


GRID_PROPERTIES: dict[str, Any] = {
    "grid": {"type": "string", "pattern": "^[1-6]x[1-6]$",
             "description": "RxC: one image, also stored cut into tiles (n=1)"},
    "cells": {"type": "array", "items": {"type": "string"},
              "description": "With grid: one description per panel, in reading order"},
}
"""The arguments of a grid request: named on generate_image only (every byte of a schema is
repeated per tool, and tools/list must stay small); generate_image takes every model."""


def _fmt(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def listed_ids(specs: list[ModelSpec], taking: str | None = None) -> list[str]:
    """The ids worth naming to an assistant: a dated snapshot (``x-2026-04-21``) is left out when
    ``x`` is there (it still works when asked for); with ``taking``, only models with that flag."""
    ids = {spec.id for spec in specs}
    return [spec.id for spec in specs if (taking is None or getattr(spec, taking))
            and not (_SNAPSHOT.search(spec.id) and _SNAPSHOT.sub("", spec.id) in ids)]


def model_list(specs: list[ModelSpec]) -> str:
    """The models' ids by provider, on one line each: ``openai: gpt-image-2, gpt-image-2.6-flare``."""
    by_provider: dict[str, list[str]] = {}
    listed = set(listed_ids(specs))
    for spec in specs:
        if spec.id in listed:
            by_provider.setdefault(spec.provider, []).append(spec.id)
    return "\n".join(f"{provider}: {_fmt(ids)}" for provider, ids in by_provider.items())


def _merge_param(name: str, owners: list[tuple[ModelSpec, ParamSpec]]) -> dict[str, Any]:
    """One schema for a parameter several models take: union of enums, widest bounds."""
    params = [p for _, p in owners]
    if len(owners) == 1:
        return params[0].json_schema()
    schema: dict[str, Any] = {}
    types = {p.type for p in params}
    if len(types) == 1:
        schema["type"] = params[0].type
    elif types == {"integer", "number"}:
        schema["type"] = "number"
    if all(p.enum is not None for p in params):
        merged: list[Any] = []
        for p in params:
            merged.extend(v for v in p.enum or [] if v not in merged)
        schema["enum"] = merged
    if all(p.minimum is not None for p in params):
        schema["minimum"] = min(p.minimum for p in params if p.minimum is not None)
    if all(p.maximum is not None for p in params):
        schema["maximum"] = max(p.maximum for p in params if p.maximum is not None)
    if all(p.max_length is not None for p in params):
        schema["maxLength"] = max(p.max_length for p in params if p.max_length is not None)
    first = next((p.description for p in params if p.description), "")
    groups: dict[str, list[str]] = {}  # models allowing the same values are named together
    for spec, param in owners:
        groups.setdefault(param.allowed(), []).append(spec.id)
    if len(groups) == 1:
        return {**schema, "description": first} if first else schema
    per_model = "; ".join(f"{_fmt(ids)}: {allowed}" for allowed, ids in groups.items())
    schema["description"] = f"{first} Per model: {per_model}.".strip()
    return schema


def _param_owners(specs: list[ModelSpec], operation: Operation) -> dict[str, list[tuple[ModelSpec, ParamSpec]]]:
    owners: dict[str, list[tuple[ModelSpec, ParamSpec]]] = {}
    for spec in specs:
        for name, param in spec.params_for(operation).items():
            if name not in COMMON:
                owners.setdefault(name, []).append((spec, param))
    return dict(sorted(owners.items()))


def _param_properties(specs: list[ModelSpec], operation: Operation,
                      named: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Named arguments for the models' own parameters. A tool choosing among several models names
    only the parameters all of them take (and, with ``named``, only those); the others go in
    ``params``, described by model, and the gateway checks them against the chosen model (so the
    schema stays small)."""
    owners = _param_owners(specs, operation)
    shared = {name: found for name, found in owners.items() if len(found) == len(specs)}
    props = {name: _merge_param(name, found) for name, found in shared.items() if named is None or name in named}
    others: dict[str, list[str]] = {}
    for name, found in owners.items():
        if name not in shared:
            for spec, _ in found:
                others.setdefault(spec.id, []).append(name)
    notes = [_fmt([n for n in shared if n not in props])] if len(props) < len(shared) else []
    notes += [f"{model}: {_fmt(names)}" for model, names in others.items()]
    if notes:
        props["params"] = {"type": "object", "description": (
            f"More options (checked for the chosen model): {'; '.join(notes)}.")}
    return props


def _size_property(specs: list[ModelSpec]) -> dict[str, Any] | None:
    sized = [spec for spec in specs if spec.sizes is not None]
    if not sized:
        return None
    groups: dict[str, list[str]] = {}  # models allowing the same sizes are named together
    for spec in sized:
        groups.setdefault(spec.sizes.describe(), []).append(spec.id)  # type: ignore[union-attr]
    notes = [f"{_fmt(ids)}: {described}" if len(groups) > 1 or len(specs) > len(ids) else described
             for described, ids in groups.items()]
    notes += [f"{spec.id}: no size" + (" (use aspect_ratio)" if spec.aspect_ratios else "")
              for spec in specs if spec.sizes is None]
    schema: dict[str, Any] = {"type": "string", "description": "Image size as WxH. " + "; ".join(notes) + "."}
    if all(spec.sizes and spec.sizes.values is not None and not spec.sizes.is_rule() for spec in sized):
        values: list[str] = []
        for spec in sized:
            values.extend(v for v in (spec.sizes.values or []) if v not in values)  # type: ignore[union-attr]
        schema["enum"] = values
    else:
        named = [re.escape(v) for spec in sized for v in (spec.sizes.values or []) if "x" not in v]  # type: ignore[union-attr]
        schema["pattern"] = "^(?:" + "|".join([r"\d{1,5}x\d{1,5}", *dict.fromkeys(named)]) + ")$"
    return schema


def _taking(specs: list[ModelSpec], overlay: str) -> str:
    """The models taking a mask (or markup), a provider named once when all its models do."""
    names: list[str] = []
    for provider in dict.fromkeys(spec.provider for spec in specs):
        own = [spec for spec in specs if spec.provider == provider]
        masked = listed_ids(own, overlay)
        names += [f"all of {provider}"] if len(own) > 1 and len(masked) == len(listed_ids(own)) else masked
    return _fmt(names)


def image_input_description(allowed_roots: list[str], allowed_hosts: list[str]) -> str:
    """What an input image may be (never which folders: remote callers must not learn them)."""
    where = ", a path under an allowed input folder" if allowed_roots else ""
    hosts = f", an https URL on {_fmt(allowed_hosts)}" if allowed_hosts else ""
    return f"Each: a stored image id, base64 (or a data: URI){where}{hosts}."


def tool_input_schema(
    specs: list[ModelSpec],
    operation: Operation,
    *,
    models: list[str] | None,
    default_model: str | None,
    deliver_default: Deliver,
    image_help: str,
    model_params: bool,
    named_params: list[str] | None = None,
) -> dict[str, Any]:
    """The input schema of a tool serving ``specs`` for ``operation``.

    ``models`` lists the ids the ``model`` argument may take (None: any id; empty: no ``model``
    argument). With ``model_params`` the models' own parameters are named arguments (a per-model
    tool); without, they go in a ``params`` object (or unnamed top-level arguments) that the
    gateway checks against the chosen model's catalog entry, which keeps a tool serving every
    model small. ``named_params`` (a tool hint's ``options``) limits which ones are named.
    """
    props: dict[str, Any] = {}
    required: list[str] = []
    if operation != "variation":
        limits = [spec.prompt_max_length for spec in specs]
        prompt: dict[str, Any] = {"type": "string", "minLength": 1,
                                  "description": "What to change." if operation == "edit" else "What to draw."}
        if limits and all(limit is not None for limit in limits):
            prompt["maxLength"] = max(limit for limit in limits if limit is not None)
        props["prompt"] = prompt
        required.append("prompt")
    if operation == "edit":
        props["images"] = {"type": "array", "minItems": 1,
                           "maxItems": max(spec.max_input_images for spec in specs),
                           "items": {"type": "string", "minLength": 1},
                           "description": "Images to edit. " + image_help}
        required.append("images")
        if any(spec.mask for spec in specs):
            props["mask"] = {"type": "string", "minLength": 1, "description": (
                f"Optional PNG mask whose transparent areas are edited (models: {_taking(specs, 'mask')}). "
                "Same forms as images.")}
        if any(spec.markup for spec in specs):
            props["markup"] = {"type": "string", "minLength": 1, "description": (
                "Optional transparent PNG drawn over the first image to guide the edit "
                f"(models: {_taking(specs, 'markup')}); not with mask. Same forms as images.")}
    if operation == "variation":
        props["image"] = {"type": "string", "minLength": 1, "description": "The image to vary. " + image_help}
        required.append("image")
    if models is None or models:
        model: dict[str, Any] = {"type": "string"}
        if not models:
            model["description"] = "Model id or alias."
        if models:
            model["enum"] = models
        if default_model:
            model["default"] = default_model
        props["model"] = model
    if model_params:
        size = _size_property(specs)
        if size is not None:
            props["size"] = size
    else:
        props["size"] = {"type": "string", "maxLength": 32, "description": "WxH or a size name the model takes."}
    props["n"] = {"type": "integer", "minimum": min(s.n_min for s in specs),
                  "maximum": max(s.n_max for s in specs), "default": 1}
    if model_params:
        props.update(_param_properties(specs, operation, named_params))
    else:
        props["params"] = {"type": "object", "description": (
            "The model's own options (see list_available_models), e.g. {\"quality\": \"high\"}.")}
    if operation == "generate" and not model_params:  # a per-model tool takes them too, undescribed
        props.update(GRID_PROPERTIES)
    props["deliver"] = {"type": "string", "enum": ["link", "preview", "full"], "default": deliver_default}
    if not model_params:
        props["deliver"]["description"] = "link; preview: plus a thumbnail; full: inline."
    schema = {"type": "object", "properties": props, "required": required}
    # a tool serving several models also takes a model's options as top-level arguments (CONTRACT.md);
    # like params, the gateway checks them against the chosen model
    return {**schema, "additionalProperties": False} if model_params and "params" not in props else schema
