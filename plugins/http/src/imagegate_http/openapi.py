"""``/openapi.json``: generated from the route table and the live model catalog.

Request schemas list the OpenAI fields plus every model parameter the installed plugins declare
(so a client or a fuzzer sees what is accepted); routes added by plugins through
``register_routes`` (e.g. ``/metrics``) are described generically. Nothing here is written by hand
per route twice, so the document cannot drift from the router.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .keys import GATEWAY

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohttp import web
    from imagegate import ModelSpec

    from .routes import Route

__all__ = ["build_openapi"]

_REF = "#/components/schemas/"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
              "description": "How many images to list."},
    "before": {"schema": {"type": "string"}, "description": "List images older than this id (a page's last_id)."},
    "model": {"schema": {"type": "string"}, "description": "Only images made by this model (id or alias)."},
    "since": {"schema": {"type": "string", "format": "date-time"},
              "description": "Only images created at or after this ISO 8601 date or time (UTC if no zone)."},
    "until": {"schema": {"type": "string", "format": "date-time"},
              "description": "Only images created before this ISO 8601 date or time (UTC if no zone)."},
    "parent": {"schema": {"type": "string"}, "description": "Only images whose parent_ids name this image id."},
    "content": {"schema": {"type": "string", "enum": ["0", "1"]}, "description": "1: answer the image bytes."},
    "exp": {"schema": {"type": "string"}, "required": True, "description": "Expiry (Unix seconds)."},
    "sig": {"schema": {"type": "string"}, "required": True, "description": "HMAC-SHA256 signature."},
    "size": {"schema": {"type": "integer", "minimum": 16, "maximum": 1024, "default": 256},
             "description": "The thumbnail's longest side."},
    "wait": {"schema": {"type": "number", "minimum": 0, "maximum": 60, "default": 0},
             "description": "Seconds to wait for the job to end before answering (long poll)."},
    "jobs:limit": {"schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                   "description": "How many jobs to list."},
    "jobs:after": {"schema": {"type": "string"},
                   "description": "List jobs older than this job id (the previous page's last_id)."},
    "jobs:before": {"schema": {"type": "string"}, "description": "The same as after (the name GET /v1/images uses)."},
}
"""Query parameters by name; ``<tag>:<name>`` is the one a tag's routes describe differently."""

_JOB_HEADERS = [
    {"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string", "enum": ["respond-async"]},
     "description": "respond-async: answer 202 at once with the job (Location: its URL) instead of waiting."},
    {"name": "Idempotency-Key", "in": "header", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
     "description": "A repeat with the same key and body (within JOBS__RETENTION_H) gets the first request's "
                    "job and result without a second upstream call; the same key with another body is refused."},
]

_TRANSFORM_REQUEST = {
    "type": "object", "required": ["op"], "additionalProperties": False,
    "description": "resize: width and/or height, mode; crop: left, top, width, height; thumbnail: size; "
                   "convert: format. Every op also takes format and quality.",
    "properties": {
        "op": {"type": "string", "enum": ["resize", "crop", "thumbnail", "convert"]},
        "width": {"type": "integer", "minimum": 1, "maximum": 8192},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192},
        "mode": {"type": "string", "enum": ["fit", "fill"], "default": "fit"},
        "left": {"type": "integer", "minimum": 0}, "top": {"type": "integer", "minimum": 0},
        "size": {"type": "integer", "minimum": 16, "maximum": 1024},
        "format": {"type": "string", "enum": ["png", "jpeg", "webp"]},
        "quality": {"type": "integer", "minimum": 1, "maximum": 100},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "properties": {
            "message": {"type": "string"},
            "type": {"type": "string"},
            "param": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"]},
            "retryable": {"type": "boolean"},
            "provider": {"type": ["string", "null"]},
            "retry_after": {"type": ["number", "null"]},
        },
    }},
}

_IMAGES_RESPONSE = {
    "type": "object",
    "required": ["created", "data"],
    "properties": {
        "created": {"type": "integer"},
        "data": {"type": "array", "items": {"type": "object", "properties": {
            "b64_json": {"type": "string"}, "url": {"type": "string"}, "revised_prompt": {"type": "string"}}}},
        "usage": {"type": "object"},
        "grid": {"type": "object", "description": "For a grid request: the whole grid image (id, rows, columns, "
                                                  "b64_json or url); data holds its tiles in cell order."},
        "imagegate": {"type": "object", "description": "Stored ids, URLs, model, provider and cost (with "
                                                       "\"unofficial\": true when priced from third-party figures)."},
    },
}

_JOB = {
    "type": "object",
    "required": ["id", "object", "status", "created_at", "model", "operation"],
    "properties": {
        "id": {"type": "string", "pattern": "^job_"},
        "object": {"const": "image.job"},
        "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "canceled"]},
        "created_at": {"type": "number"}, "started_at": {"type": ["number", "null"]},
        "finished_at": {"type": ["number", "null"]},
        "model": {"type": "string"}, "operation": {"type": "string", "enum": ["generate", "edit", "variation"]},
        "parameters": {"type": "object"},
        "cost": {"type": "object", "properties": {"estimated_usd": {"type": ["number", "null"]},
                                                  "actual_usd": {"type": ["number", "null"]}}},
        "webhook_url": {"type": ["string", "null"]},
        "result": {"oneOf": [{"$ref": _REF + "ImagesResponse"}, {"type": "null"}],
                   "description": "Once succeeded: the body the synchronous call answers (same response_format, "
                                  "fresh URLs). Not in list items."},
        "error": {"oneOf": [_ERROR["properties"]["error"], {"type": "null"}],
                  "description": "Once failed: the error envelope's object."},
    },
}

_STREAM_EVENT = {"type": "object", "required": ["type"], "properties": {
    "type": {"type": "string", "enum": ["image_generation.partial_image", "image_generation.completed",
                                       "image_edit.partial_image", "image_edit.completed", "error"]},
    "b64_json": {"type": "string"}}}

_ANSWERS: dict[str, dict[str, Any]] = {
    "images": {"application/json": {"schema": {"$ref": _REF + "ImagesResponse"}}},
    "image_list": {"application/json": {"schema": {"type": "object", "required": ["object", "data"],
                                                   "properties": {"object": {"const": "list"},
                                                                  "data": {"type": "array"},
                                                                  "last_id": {"type": ["string", "null"]},
                                                                  "has_more": {"type": "boolean"}}}}},
    "stored_image": {"application/json": {"schema": {"type": "object", "required": ["id", "url"]}},
                     "image/*": {"schema": {"type": "string", "format": "binary"}}},
    "deleted": {"application/json": {"schema": {"type": "object", "required": ["id", "deleted"]}}},
    "model_list": {"application/json": {"schema": {"type": "object", "required": ["object", "data"],
                                                   "properties": {"data": {"type": "array", "items": {
                                                       "$ref": _REF + "Model"}}}}}},
    "model": {"application/json": {"schema": {"$ref": _REF + "Model"}}},
    "bytes": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    "html": {"text/html": {"schema": {"type": "string"}}},
    "asset": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}},
    "json": {"application/json": {"schema": {"type": "object"}}},
    "job": {"application/json": {"schema": {"$ref": _REF + "ImageJob"}}},
    "job_list": {"application/json": {"schema": {"type": "object", "required": ["object", "data", "has_more"],
                                                 "properties": {"object": {"const": "list"},
                                                                "data": {"type": "array",
                                                                         "items": {"$ref": _REF + "ImageJob"}},
                                                                "first_id": {"type": ["string", "null"]},
                                                                "last_id": {"type": ["string", "null"]},
                                                                "has_more": {"type": "boolean"}}}}},
}


def _merge(first: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """One schema for a parameter several models declare (loosened where they differ)."""
    if first.get("type") != other.get("type"):
        return {"description": first.get("description", "")}
    merged = dict(first)
    if "enum" in first or "enum" in other:
        if "enum" in first and "enum" in other:
            merged["enum"] = first["enum"] + [v for v in other["enum"] if v not in first["enum"]]
        else:
            merged.pop("enum", None)
    for key in ("minimum", "maximum", "maxLength"):
        if first.get(key) != other.get(key):
            merged.pop(key, None)
    return merged


def _model_params(models: list[ModelSpec], operation: str) -> dict[str, dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for spec in models:
        if operation not in spec.operations:
            continue
        for name, param in spec.params_for(operation).items():  # type: ignore[arg-type]
            schema = param.json_schema()
            schema.pop("default", None)
            params[name] = _merge(params[name], schema) if name in params else schema
    return params


def _request_schema(models: list[ModelSpec], operation: str) -> dict[str, Any]:
    ids = [spec.id for spec in models if operation in spec.operations]
    n_max = max((spec.n_max for spec in models), default=1)
    properties: dict[str, Any] = {
        "model": {"type": "string", "description": "Model id, qualified id or alias: " + ", ".join(ids),
                  "examples": ids[:10]},
        "n": {"type": "integer", "minimum": 1, "maximum": n_max},
        "size": {"type": "string", "description": "WxH, or auto. For models taking aspect_ratio only, "
                                                  "mapped to the nearest declared ratio."},
        "response_format": {"type": "string", "enum": ["b64_json", "url"], "default": "b64_json"},
        "user": {"type": "string"},
        "webhook_url": {"type": "string", "format": "uri", "maxLength": 2048, "description": (
            "When the job ends, its job object (as GET /v1/images/jobs/{id} answers it) is POSTed here, signed "
            "the Standard Webhooks way with GATEWAY__WEBHOOK_SECRET; https on a public address, unless the host "
            "is in GATEWAY__WEBHOOK_ALLOW_HOSTS.")},
    }
    if operation != "variation":
        properties["prompt"] = {"type": "string", "minLength": 1}
        properties["stream"] = {"type": "boolean", "default": False}
    for name, schema in _model_params(models, operation).items():
        properties.setdefault(name, schema)
    binary = {"type": "string", "format": "binary"}
    if operation == "edit":
        properties["image"] = {"oneOf": [binary, {"type": "array", "items": binary, "maxItems": 16}]}
        properties["mask"] = {**binary, "description": "PNG whose transparent areas mark what to edit "
                                                       "(first image); not with markup."}
        properties["markup"] = {**binary, "description": "Transparent PNG drawn over the first image to guide "
                                                         "the edit (models whose markup is true); not with mask."}
    elif operation == "variation":
        properties["image"] = binary
    if operation == "generate":
        properties["grid"] = {"type": "string", "pattern": "^[1-6]x[1-6]$", "description": (
            "RxC: one image of panels, stored whole and cut into tiles (data: the tiles; grid: the whole).")}
        properties["cells"] = {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 36,
                               "description": "With grid: one description per panel, in reading order (R×C)."}
    required = {"generate": ["prompt"], "edit": ["image", "prompt"], "variation": ["image"]}[operation]
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": True,
            "description": "Other fields are model parameters, checked against the model's catalog entry."}


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary,
                                 "tags": [route.tag]}
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PLACEHOLDER.findall(route.path)]
    for name in route.query:
        query = _QUERY.get(f"{route.tag}:{name}") or _QUERY[name]
        parameters.append({"name": name, "in": "query", "required": query.get("required", False),
                           "schema": query["schema"], "description": query["description"]})
    if route.answer == "images":
        parameters += _JOB_HEADERS
    if parameters:
        operation["parameters"] = parameters
    if route.body == "generation":
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": _REF + "CreateImageRequest"}}}}
    elif route.body == "transform":
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": _REF + "TransformImageRequest"}}}}
    elif route.body in ("edit", "variation"):
        name = "CreateImageEditRequest" if route.body == "edit" else "CreateImageVariationRequest"
        operation["requestBody"] = {"required": True, "content": {
            "multipart/form-data": {"schema": {"$ref": _REF + name}}}}
    content = dict(_ANSWERS[route.answer])
    if route.body in ("generation", "edit"):
        content["text/event-stream"] = {"schema": {"$ref": _REF + "ImageStreamEvent"}}
    operation["responses"] = {
        "200": {"description": "OK", "content": content},
        **({"202": {"description": "Accepted (Prefer: respond-async): the job, to poll at Location.",
                    "headers": {"Location": {"schema": {"type": "string"},
                                             "description": "/v1/images/jobs/{id}"}},
                    "content": _ANSWERS["job"]}} if route.answer == "images" else {}),
        "default": {"description": "An error in OpenAI's envelope.",
                    "content": {"application/json": {"schema": {"$ref": _REF + "ErrorResponse"}}}},
    }
    if route.path.startswith("/v1/"):
        operation["security"] = [{"bearer": []}]
    return operation


def build_openapi(app: web.Application, routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``: its route table, plugin routes and the catalog."""
    models = app[GATEWAY].models()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    for resource_route in app.router.routes():
        method = resource_route.method
        canonical = resource_route.resource.canonical if resource_route.resource else None
        if canonical is None or method in ("HEAD", "OPTIONS", "*"):
            continue
        entry = paths.setdefault(canonical, {})
        if method.lower() not in entry:
            slug = re.sub(r"\W+", "_", canonical).strip("_")
            entry[method.lower()] = {
                "summary": "Added by a plugin (register_routes).", "tags": ["plugins"],
                "operationId": f"plugin_{method.lower()}_{slug}",
                "responses": {"200": {"description": "OK"}}}
    schemas = {
        "ErrorResponse": _ERROR,
        "ImagesResponse": _IMAGES_RESPONSE,
        "ImageStreamEvent": _STREAM_EVENT,
        "ImageJob": _JOB,
        "Model": {"type": "object", "required": ["id", "object", "created", "owned_by"]},
        "CreateImageRequest": _request_schema(models, "generate"),
        "CreateImageEditRequest": _request_schema(models, "edit"),
        "CreateImageVariationRequest": _request_schema(models, "variation"),
        "TransformImageRequest": _TRANSFORM_REQUEST,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "imagegate", "version": _version(),
                 "description": "OpenAI-compatible image gateway. Errors use OpenAI's envelope."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("imagegate-http")
    except PackageNotFoundError:
        return "0"

