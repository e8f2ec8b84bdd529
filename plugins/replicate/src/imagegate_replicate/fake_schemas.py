"""Cog-style OpenAPI schemas the loopback fake publishes for its models.

They have the shape Replicate serves from ``GET /models/{owner}/{name}`` (``latest_version``) and
``GET /models/{owner}/{name}/versions/{id}``: inputs under ``components.schemas.Input``, enums
behind ``allOf: [{"$ref": ...}]``, ``x-order`` on each property. The FLUX.2 models' schemas are
the shipped ones (:mod:`imagegate_replicate.flux2_schemas`) put in that shape. Used by
:mod:`imagegate_replicate.testing`, never by the provider itself.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from .flux2_schemas import flux2_input_schemas

__all__ = ["COMMUNITY_MODEL", "COMMUNITY_VERSION", "FLUX2", "OFFICIAL_MODELS", "cog_from_json_schema",
           "cog_schema"]

COMMUNITY_MODEL = "acme/tiny-diffusion"
COMMUNITY_VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


def _enum(name: str, values: list[Any], kind: str = "string") -> dict[str, Any]:
    return {"title": name, "description": "An enumeration.", "enum": values, "type": kind}


def cog_schema(properties: dict[str, Any], enums: dict[str, dict[str, Any]], required: list[str],
               output: dict[str, Any]) -> dict[str, Any]:
    """An ``openapi_schema`` as Cog writes it (``paths`` emptied, as Replicate now serves it)."""
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": {
            "Input": {"type": "object", "title": "Input", "required": required, "properties": properties},
            "Output": output,
            **enums,
        }},
    }


_URI_LIST = {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}
_URI = {"type": "string", "format": "uri", "title": "Output"}
_FORMATS = ["webp", "jpg", "png"]
_FLUX_RATIOS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
_PRO_RATIOS = ["custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"]
_RECRAFT_SIZES = ["1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024", "1024x1820",
                  "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280", "1280x1024", "1024x1707",
                  "1707x1024"]


def _ref(name: str, order: int, default: Any, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "default": default,
            "description": description, "x-order": order}


def _prompt() -> dict[str, Any]:
    return {"type": "string", "title": "Prompt", "description": "Prompt for generated image", "x-order": 0}


FLUX_DEV = cog_schema(
    {
        "prompt": _prompt(),
        "aspect_ratio": _ref("aspect_ratio", 1, "1:1", "Aspect ratio for the generated image"),
        "num_outputs": {"type": "integer", "title": "Num Outputs", "default": 1, "minimum": 1, "maximum": 4,
                        "x-order": 2, "description": "Number of outputs to generate"},
        "num_inference_steps": {"type": "integer", "default": 28, "minimum": 1, "maximum": 50, "x-order": 3,
                                "title": "Num Inference Steps", "description": "Number of denoising steps."},
        "guidance": {"type": "number", "default": 3, "minimum": 0, "maximum": 10, "x-order": 4,
                     "title": "Guidance", "description": "Guidance for generated image"},
        "seed": {"type": "integer", "title": "Seed", "x-order": 5, "description": "Random seed."},
        "output_format": _ref("output_format", 6, "webp", "Format of the output images"),
        "output_quality": {"type": "integer", "default": 80, "minimum": 0, "maximum": 100, "x-order": 7,
                           "title": "Output Quality", "description": "Quality when saving the output images"},
        "disable_safety_checker": {"type": "boolean", "default": False, "x-order": 8,
                                   "title": "Disable Safety Checker", "description": "Disable safety checker."},
        "go_fast": {"type": "boolean", "default": True, "x-order": 9, "title": "Go Fast",
                    "description": "Run faster predictions with an fp8 quantized model."},
        "megapixels": _ref("megapixels", 10, "1", "Approximate number of megapixels for generated image"),
    },
    {"aspect_ratio": _enum("aspect_ratio", _FLUX_RATIOS), "output_format": _enum("output_format", _FORMATS),
     "megapixels": _enum("megapixels", ["1", "0.25"])},
    ["prompt"],
    _URI_LIST,
)

FLUX_PRO = cog_schema(
    {
        "prompt": _prompt(),
        "aspect_ratio": _ref("aspect_ratio", 1, "1:1", "Aspect ratio for the generated image"),
        "width": {"type": "integer", "minimum": 256, "maximum": 1440, "x-order": 2, "title": "Width",
                  "description": "Width of the generated image; only used when aspect_ratio=custom."},
        "height": {"type": "integer", "minimum": 256, "maximum": 1440, "x-order": 3, "title": "Height",
                   "description": "Height of the generated image; only used when aspect_ratio=custom."},
        "seed": {"type": "integer", "title": "Seed", "x-order": 4, "description": "Random seed."},
        "output_format": _ref("output_format", 5, "webp", "Format of the output images."),
        "output_quality": {"type": "integer", "default": 80, "minimum": 0, "maximum": 100, "x-order": 6,
                           "title": "Output Quality", "description": "Quality when saving the output images"},
        "safety_tolerance": {"type": "integer", "default": 2, "minimum": 1, "maximum": 6, "x-order": 7,
                             "title": "Safety Tolerance",
                             "description": "1 is most strict and 6 is most permissive"},
        "prompt_upsampling": {"type": "boolean", "default": False, "x-order": 8, "title": "Prompt Upsampling",
                              "description": "Automatically modify the prompt for more creative generation"},
    },
    {"aspect_ratio": _enum("aspect_ratio", _PRO_RATIOS), "output_format": _enum("output_format", _FORMATS)},
    ["prompt"],
    _URI,
)

RECRAFT_SVG = cog_schema(
    {
        "prompt": _prompt(),
        "size": _ref("size", 1, "1024x1024", "Width and height of the generated image"),
        "style": _ref("style", 2, "any", "Style of the generated image."),
    },
    {"size": _enum("size", _RECRAFT_SIZES),
     "style": _enum("style", ["any", "engraving", "line_art", "line_circuit", "linocut"])},
    ["prompt"],
    _URI,
)

COMMUNITY = cog_schema(
    {
        "prompt": _prompt(),
        "image": {"type": "string", "format": "uri", "title": "Image", "x-order": 1,
                  "description": "Input image for img2img"},
        "width": {"type": "integer", "default": 512, "minimum": 128, "maximum": 1024, "multipleOf": 64,
                  "x-order": 2, "title": "Width", "description": "Width of output image"},
        "scheduler": _ref("scheduler", 3, "K_EULER", "scheduler"),
        "guidance_scale": {"type": "number", "default": 7.5, "minimum": 1, "maximum": 20, "x-order": 4,
                           "title": "Guidance Scale", "description": "Scale for classifier-free guidance"},
        "lora_weights": {"type": "array", "items": {"type": "string"}, "x-order": 5, "title": "Lora Weights"},
    },
    {"scheduler": _enum("scheduler", ["DDIM", "K_EULER", "DPMSolverMultistep"])},
    ["prompt"],
    _URI_LIST,
)


def cog_from_json_schema(input_schema: dict[str, Any]) -> dict[str, Any]:
    """A plain input schema (with ``x-output-schema``) as Cog publishes it: each enum moved to
    ``components.schemas`` behind ``allOf``/``$ref``, ``x-order`` added, the output as ``Output``."""
    schema = copy.deepcopy(input_schema)
    output = schema.pop("x-output-schema", _URI)
    enums: dict[str, dict[str, Any]] = {}
    for order, (name, prop) in enumerate(schema["properties"].items()):
        prop["x-order"] = order
        if "enum" in prop:
            enums[name] = _enum(name, prop.pop("enum"), prop.pop("type"))
            prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
    openapi = cog_schema(schema.pop("properties"), enums, schema.pop("required", []), output)
    openapi["components"]["schemas"]["Input"].update(schema)
    return openapi


def _flux2_models() -> dict[str, dict[str, Any]]:
    found = {}
    for name, input_schema in flux2_input_schemas().items():
        output = input_schema.get("x-output-schema", _URI)
        default_format = input_schema["properties"].get("output_format", {}).get("default", "webp")
        found[name] = {"schema": cog_from_json_schema(input_schema), "output_list": output.get("type") == "array",
                       "default_format": default_format, "version": hashlib.sha256(name.encode()).hexdigest()}
    return found


FLUX2 = _flux2_models()

OFFICIAL_MODELS: dict[str, dict[str, Any]] = {
    "black-forest-labs/flux-dev": {"schema": FLUX_DEV, "output_list": True, "default_format": "webp",
                                   "version": "6e4a938f85952bdabcc15aa329178c4d681c52bf25a0342403287dc26944661d"},
    "black-forest-labs/flux-1.1-pro": {"schema": FLUX_PRO, "output_list": False, "default_format": "webp",
                                       "version": "80a09d66baa990429c2f5ae8a4306bf778a1b3775afd01cc2cc8bdbe9033769c"},
    "recraft-ai/recraft-v3-svg": {"schema": RECRAFT_SVG, "output_list": False, "default_format": "svg",
                                  "version": "4a0b4d4f1f1c4e6b9b1bb2c2f8c3bd5c2e3f00e0c2f9f2b1d0a6d5e0b7c3a2f1"},
    **FLUX2,
}
