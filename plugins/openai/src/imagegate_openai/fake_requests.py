"""What the fake OpenAI checks in every request it receives.

Three layers, all reported as ``path: message`` problems:

* the official SDK's request types (``openai`` 3.54: ``ImageGenerateParamsBase``,
  ``ImageEditParamsBase``, ``ResponseCreateParamsBase`` and the ``image_generation`` tool type),
  validated by pydantic with unknown keys forbidden at every level;
* the vendored 2026 request schemas (``specs/2026/openai-images-2026.request-schemas.json``);
* what today's API refuses although the SDK types allow it (:func:`refusal`): legacy parameters
  sent to GPT image models, ``quality`` beyond a model's values, GIF and SVG restrictions.

Multipart forms are turned into the instance their type describes first (:func:`form_instance`):
``image[]`` parts become one list, ``svg[reasoning][effort]`` nests, numbers and booleans are typed.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson

__all__ = ["REQUEST_SCHEMAS", "RETIRED_MODELS", "Refusal", "RequestChecker", "form_instance", "refusal"]

REQUEST_SCHEMAS = "2026/openai-images-2026.request-schemas.json"
"""The 2026 request schemas, relative to the repository's ``specs/`` folder."""

RETIRED_MODELS = frozenset({"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5",
                            "gpt-image-1.5-2025-12-16", "chatgpt-image-latest"})
"""Image models that are shut down (openai-images-2026.md §8); the API answers 404 for them."""

_INTEGER_FIELDS = {"n", "output_compression", "partial_images", "frame_count", "frame_duration_ms"}
_BOOLEAN_FIELDS = {"stream"}
_FILE_FIELDS = {"image", "mask", "markup"}
_BRACKETS = re.compile(r"\[([^\]]*)\]")
_LEGACY = ("style", "response_format")
_TOP_QUALITIES = ("xhigh", "max")
_UNSTREAMED = ("gif", "svg")


def _typed(name: str, text: str) -> Any:
    if name in _INTEGER_FIELDS and text.lstrip("-").isdigit():
        return int(text)
    if name in _BOOLEAN_FIELDS:
        return text == "true"
    return text


def form_instance(parts: list[Any]) -> dict[str, Any]:
    """A multipart body as the JSON instance its type describes (files as ``<N bytes type>``
    placeholders, ``image[]`` parts as one list, bracketed names nested, numbers typed)."""
    instance: dict[str, Any] = {}
    for part in parts:
        head, _, rest = part.name.partition("[")
        keys = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        if part.filename is not None:
            value: Any = f"<{len(part.value)} bytes {part.content_type}>"
        else:
            value = _typed(keys[-1] or head, bytes(part.value).decode())
        target = instance
        for key in keys[:-2] if keys[-1] == "" else keys[:-1]:
            target = target.setdefault(key, {})
        if keys[-1] == "":
            target.setdefault(keys[-2], []).append(value)
        else:
            target[keys[-1]] = value
    return instance


@cache
def _strict(type_name: str, streaming: bool) -> Any:
    """A pydantic adapter over the SDK's request TypedDict (its streaming variant when
    ``streaming``) that forbids unknown keys, nested ones too."""
    from pydantic import ConfigDict, TypeAdapter

    from openai.types import image_edit_params as edit, image_generate_params as generate
    from openai.types.responses import response_create_params as responses
    from openai.types.responses.tool_param import ImageGeneration

    variants = {"generate": (generate.ImageGenerateParamsNonStreaming, generate.ImageGenerateParamsStreaming),
                "edit": (edit.ImageEditParamsNonStreaming, edit.ImageEditParamsStreaming),
                "responses": (responses.ResponseCreateParamsNonStreaming, responses.ResponseCreateParamsStreaming),
                "tool": (ImageGeneration, ImageGeneration)}[type_name]
    base = variants[streaming]
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    return TypeAdapter(type(f"Strict{base.__name__}", (base,), {"__pydantic_config__": config}))


def sdk_problems(type_name: str, instance: Any) -> list[str]:
    """Violations of the SDK 3.54 TypedDict ``type_name`` (generate, edit, responses, tool); a
    body with ``stream: true`` is checked against the streaming variant."""
    from pydantic import ValidationError

    if type_name == "edit" and isinstance(instance, dict):  # file parts are bytes to the SDK
        instance = {k: (v if k not in _FILE_FIELDS else
                        [b""] * len(v) if isinstance(v, list) else b"") for k, v in instance.items()}
    streaming = isinstance(instance, dict) and instance.get("stream") is True
    try:
        _strict(type_name, streaming).validate_python(instance)
    except ValidationError as exc:
        return [f"{'/'.join(map(str, e['loc'])) or '<root>'}: {e['msg']} (SDK)" for e in exc.errors()]
    return []


class RequestChecker:
    """Checks request bodies against the SDK types and, given their path, the 2026 schemas."""

    _DEFS = {"generate": "ImagesGenerationsRequest", "edit": "ImagesEditsRequest",
             "tool": "ResponsesImageGenerationTool"}

    def __init__(self, schemas_path: str | Path | None = None) -> None:
        self._schemas = None
        if schemas_path is not None:
            from jsonschema import Draft202012Validator

            document = orjson.loads(Path(schemas_path).read_bytes())
            self._schemas = {kind: Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": document["$defs"]})
                             for kind, name in self._DEFS.items()}

    def problems(self, kind: str, body: Any) -> list[str]:
        """Every problem of a generate/edit body or a Responses body (with its image tool)."""
        if kind != "responses":
            return [*sdk_problems(kind, body), *self._schema_problems(kind, body)]
        found = sdk_problems("responses", body)
        tools = body.get("tools", []) if isinstance(body, dict) else []
        for index, tool in enumerate(tools if isinstance(tools, list) else []):
            if isinstance(tool, dict) and tool.get("type") == "image_generation":
                found += [f"tools/{index}/{p}" for p in
                          (*sdk_problems("tool", tool), *self._schema_problems("tool", tool))]
        return found

    def _schema_problems(self, kind: str, instance: Any) -> list[str]:
        if self._schemas is None:
            return []
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message} (2026 schema)"
                for e in self._schemas[kind].iter_errors(instance)]


class Refusal(NamedTuple):
    """How today's API refuses a request: status, message, ``param`` and ``code``."""

    status: int
    message: str
    param: str | None
    code: str | None


def _quoted(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _model_refusal(model: str, body: dict[str, Any]) -> Refusal | None:
    if model in RETIRED_MODELS:
        return Refusal(404, f"The model `{model}` has been deprecated, learn more here: "
                            "https://platform.openai.com/docs/deprecations", None, "model_not_found")
    for name in _LEGACY:
        if name in body:
            return Refusal(400, f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    quality = body.get("quality")
    if quality in _TOP_QUALITIES and model.startswith("gpt-image-2") and not model.startswith("gpt-image-2."):
        return Refusal(400, f"Invalid value: '{quality}'. Supported values are: "
                            f"{_quoted(('low', 'medium', 'high', 'auto'))}.", "quality", "invalid_value")
    if "input_fidelity" in body and model.startswith("gpt-image-2") and not model.startswith("gpt-image-2."):
        return Refusal(400, f"input_fidelity is not supported for {model}; omit this parameter.",
                       "input_fidelity", "unsupported_parameter")
    return None


def _format_refusal(body: dict[str, Any], has_mask: bool) -> Refusal | None:
    fmt = body.get("output_format", "png")
    if "svg" in body and fmt != "svg":
        return Refusal(400, "The svg parameter requires output_format 'svg'.", "svg", "invalid_value")
    if body.get("background") == "transparent" and fmt not in ("png", "webp"):
        return Refusal(400, "Transparent background requires output_format 'png' or 'webp'.",
                       "background", "invalid_value")
    if fmt not in _UNSTREAMED:
        if ("frame_count" in body or "frame_duration_ms" in body):
            name = "frame_count" if "frame_count" in body else "frame_duration_ms"
            return Refusal(400, f"{name} is only supported with output_format 'gif'.", name, "invalid_value")
        return None
    refused = [k for k in ("stream", "partial_images", "output_compression") if body.get(k)]
    if fmt == "gif" and has_mask:
        refused.append("mask")
    if fmt == "svg" and body.get("n", 1) != 1:
        refused.append("n")
    if refused:
        return Refusal(400, f"{refused[0]} is not supported with output_format '{fmt}'.", refused[0],
                       "unsupported_parameter")
    return None


def refusal(body: Any, *, has_mask: bool = False) -> Refusal | None:
    """How today's API refuses an Images API body the SDK types allow, or None."""
    if not isinstance(body, dict):
        return Refusal(400, "We could not parse the JSON body of your request.", None, None)
    if not body.get("model"):  # "Specify a model explicitly" (image_generate_params.py)
        return Refusal(400, "you must provide a model parameter", None, None)
    return _model_refusal(str(body["model"]), body) or _format_refusal(body, has_mask)
