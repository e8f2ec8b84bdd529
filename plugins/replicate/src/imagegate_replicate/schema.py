"""A catalog entry for any Replicate model, built from the model's own OpenAPI schema.

Cog publishes each version's inputs as ``components.schemas.Input``, with enums behind
``allOf: [{"$ref": ...}]``. The refs are inlined so the schema stands alone, the parameters the
gateway can take are listed as :class:`~imagegate._catalog.ParamSpec` (type, enum, bounds,
default, description), and the whole schema minus ``prompt`` (sent separately) becomes the spec's
``input_schema``, which the core checks with full JSON Schema before any prediction is created.

An input that takes image files (a URI string or a list of them, named for images) becomes the
model's ``edit`` input: ``options["image_param"]`` names it, ``options["image_list"]`` says whether
it takes a list (``maxItems`` is the image limit), and a ``mask`` URI input makes edits masked.
"""

from __future__ import annotations

import copy
from typing import Any

from imagegate import InvalidRequest, ModelSpec, Operation, ParamSpec, SizeSpec, UpstreamError

__all__ = ["COUNT_FIELDS", "IMAGE_FORMATS", "image_inputs", "inline_refs", "spec_from_schema"]

COUNT_FIELDS = ("num_outputs", "num_images", "number_of_images")
_GATEWAY_FIELDS = {"prompt", "model", "size", "n", "image", "images", "mask"}
_PARAM_TYPES = {"string", "integer", "number", "boolean"}
_REF_PREFIX = "#/components/schemas/"
_MAX_DEPTH = 32
_FANOUT_MAX = 4
_ANY_FORMAT = ["png", "jpeg", "webp", "gif", "svg"]
IMAGE_FORMATS = ["png", "jpeg", "webp", "gif"]
"""What Replicate's image inputs take ("jpeg, png, gif, or webp")."""
_LIST_IMAGES_MAX = 8


def inline_refs(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with every ``#/components/schemas/...`` ref replaced by its target, and a single
    ``allOf`` member merged into its parent (the node's own keys win)."""
    if depth > _MAX_DEPTH:
        msg = "the model's input schema nests too deeply"
        raise UpstreamError(msg, retryable=False)
    if isinstance(node, list):
        return [inline_refs(item, components, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: inline_refs(value, components, depth + 1) for key, value in node.items() if key != "$ref"}
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.removeprefix(_REF_PREFIX)
        if not ref.startswith(_REF_PREFIX) or name not in components:
            msg = f"the model's input schema refers to {ref!r}, which it does not define"
            raise UpstreamError(msg, retryable=False)
        out = {**inline_refs(components[name], components, depth + 1), **out}
    members = out.get("allOf")
    if isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict):
        del out["allOf"]
        out = {**members[0], **out}
    return out


def _param(prop: dict[str, Any]) -> ParamSpec | None:
    kind = prop.get("type")
    if kind not in _PARAM_TYPES:
        return None
    enum = prop.get("enum")
    default = prop.get("default")
    spec = ParamSpec(
        type=kind,
        description=" ".join(str(prop.get("description") or prop.get("title") or "").split())[:300],
        enum=list(enum) if isinstance(enum, list) else None,
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        max_length=prop.get("maxLength"),
    )
    try:
        spec.check("default", default, "schema")
    except InvalidRequest:
        return spec
    spec.default = default
    return spec


def _is_uri(prop: Any) -> bool:
    return isinstance(prop, dict) and prop.get("type") == "string" and prop.get("format") == "uri"


def image_inputs(properties: dict[str, Any]) -> tuple[str | None, bool, str | None]:
    """``(image input, whether it is a list, mask input)`` among a model's input properties."""
    image: str | None = None
    is_list = False
    mask: str | None = None
    for name, prop in properties.items():
        if "mask" in name and _is_uri(prop):
            mask = mask or name
        elif image is None and "image" in name:
            if _is_uri(prop):
                image = name
            elif isinstance(prop, dict) and prop.get("type") == "array" and _is_uri(prop.get("items")):
                image, is_list = name, True
    return image, is_list, mask


def spec_from_schema(model_id: str, openapi_schema: dict[str, Any], *, version: str | None,
                     description: str = "") -> ModelSpec:
    """The spec for ``owner/name[:version]`` from its version's ``openapi_schema``."""
    components = (openapi_schema.get("components") or {}).get("schemas") or {}
    raw_input = components.get("Input")
    if not isinstance(raw_input, dict):
        msg = f"Replicate model {model_id} publishes no input schema"
        raise UpstreamError(msg, retryable=False)
    schema = inline_refs(copy.deepcopy(raw_input), components)
    properties: dict[str, Any] = dict(schema.get("properties") or {})
    count_field = next((name for name in COUNT_FIELDS if name in properties), None)
    image, image_list, mask = image_inputs(properties)
    params: dict[str, ParamSpec] = {}
    for name, prop in properties.items():
        if name in _GATEWAY_FIELDS or name in (count_field, image, mask) or not isinstance(prop, dict):
            continue
        param = _param(prop)
        if param is not None:
            params[name] = param
    dropped = set(properties) - set(params) - {"size"}
    kept = {name: prop for name, prop in properties.items() if name not in dropped}
    required = [name for name in schema.get("required") or [] if name in params]
    max_images = 0
    if image:
        max_images = int(properties[image].get("maxItems") or _LIST_IMAGES_MAX) if image_list else 1
    operations: list[Operation] = ["generate", "edit"] if image else ["generate"]
    if image and image in (schema.get("required") or []):
        operations = ["edit"]
    input_schema = {key: value for key, value in schema.items() if key not in ("properties", "required")}
    input_schema.update(type="object", properties={k: v for k, v in kept.items() if k != "size"})
    if required:
        input_schema["required"] = required
    size_prop = properties.get("size") if isinstance(properties.get("size"), dict) else None
    count = properties.get(count_field) if count_field else None
    aspect = params.get("aspect_ratio")
    fmt = params.get("output_format")
    return ModelSpec(
        id=model_id,
        provider="replicate",
        upstream=model_id,
        description=" ".join(description.split())[:300],
        operations=operations,
        sizes=_sizes(size_prop),
        default_size=size_prop.get("default") if size_prop else None,
        size_param="size" if size_prop else None,
        aspect_ratios=[str(v) for v in aspect.enum] if aspect and aspect.enum else None,
        n_min=1,
        n_max=int(count.get("maximum") or _FANOUT_MAX) if isinstance(count, dict) else _FANOUT_MAX,
        n_param=count_field,
        params=params,
        input_schema=input_schema,
        output_formats=[str(v) for v in fmt.enum] if fmt and fmt.enum else _ANY_FORMAT,
        format_param="output_format" if fmt and fmt.enum else None,
        input_formats=IMAGE_FORMATS,
        max_input_images=max(1, max_images),
        mask=mask is not None,
        options={"version": version, "prefer_wait": None, "image_param": image, "image_list": image_list,
                 "mask_param": mask},
    )


def _sizes(prop: dict[str, Any] | None) -> SizeSpec | None:
    if prop is None:
        return None
    enum = prop.get("enum")
    if isinstance(enum, list):
        return SizeSpec(values=[str(v) for v in enum])
    return SizeSpec(min_side=1)
