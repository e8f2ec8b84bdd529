"""The tools: which exist for the installed catalog, how their arguments are checked, and the calls.

Generic tools (``generate_image``, ``edit_image``, ``create_variation``) serve every model;
per-model tools (``generate-openai``, ``generate-fluxdev``, ``generate-fluxpro``, ``generate-svg``)
appear only when their model is in the catalog and take that model's own parameter names.
Arguments are checked against the advertised schema here and against the catalog by the gateway,
both before any upstream call; every failure becomes an ``isError`` result (see ``errors.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import error_result
from .schemas import MODELS_SCHEMA, RESULT_SCHEMA, image_input_description, model_guide, tool_input_schema

if TYPE_CHECKING:
    from imagegate.catalog import ModelSpec, Operation
    from imagegate.gateway import Gateway
    from imagegate.models import ImageRequest
    from mcp_types import CallToolResult, Tool

    from .progress import Send
    from .settings import Deliver, MCPSettings

__all__ = ["ToolSpec", "build_tools", "call_tool"]

GENERIC = {
    "generate": ("generate_image", "Generate image",
                 "Generate images from a text prompt with any installed model. Paid models spend money and "
                 "every image is stored (its id can be passed to edit_image)."),
    "edit": ("edit_image", "Edit image",
             "Edit one or more images following a prompt (optionally only inside a mask). The images are "
             "stored ids, base64 data or allowed local paths. Paid models spend money; results are stored."),
    "variation": ("create_variation", "Create image variation",
                  "Make variations of an image, without a prompt. Results are stored."),
}

MODEL_TOOLS: dict[str, tuple[str, str, str]] = {
    "generate-fluxdev": ("flux-dev", "Generate with FLUX.1 [dev]", "Generate with FLUX.1 [dev] on Replicate: fast and inexpensive, good "
                         "photorealism and composition; a good default for everyday pictures."),
    "generate-fluxpro": ("flux-1.1-pro", "Generate with FLUX 1.1 [pro]", "Generate with FLUX 1.1 [pro] on Replicate: better image quality "
                         "and prompt adherence than flux-dev, at a higher price per image."),
    "generate-svg": ("recraft-v3-svg", "Generate an SVG with Recraft V3", "Generate a scalable vector graphic (SVG) with Recraft V3 SVG: logos, "
                     "icons and flat illustrations that must scale cleanly. Returns an image/svg+xml resource."),
}
OPENAI_TOOL = ("generate-openai", "Generate with OpenAI", "gpt-image-1", (
    "Generate with OpenAI image models (default gpt-image-1): best at following detailed instructions, "
    "legible text in images and transparent backgrounds. Paid per image."))



@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One advertised tool and what a call of it needs."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    operation: Operation | None
    default_model: str | None = None

    def tool(self) -> Tool:
        from mcp_types import Tool, ToolAnnotations

        generating = self.operation is not None
        annotations = ToolAnnotations(
            title=self.title, read_only_hint=not generating, destructive_hint=False,
            idempotent_hint=not generating, open_world_hint=generating)
        return Tool(name=self.name, title=self.title, description=self.description,
                    input_schema=self.input_schema, annotations=annotations,
                    output_schema=RESULT_SCHEMA if generating else MODELS_SCHEMA)


def _default_for(specs: list[ModelSpec], preferred: str) -> str:
    return next((spec.id for spec in specs if preferred in (spec.id, spec.qualified_id, *spec.aliases)),
                specs[0].id)


def build_tools(gateway: Gateway, settings: MCPSettings) -> list[ToolSpec]:
    """The tools for the gateway's catalog."""
    catalog = gateway.models()
    inputs = gateway.settings.input
    image_help = image_input_description(inputs.allowed_roots, inputs.allowed_hosts)
    configured = gateway.settings.gateway.default_model
    found = gateway.registry.find(configured)
    preferred = found.id if found else configured
    tools = [ToolSpec("list_available_models", "List image models", (
        "List the installed image models: what each is for, its operations, sizes, parameters, and "
        "whether its provider is configured. Read-only; call it before choosing a model."),
        {"type": "object", "properties": {}, "additionalProperties": False}, None)]
    for operation, (name, title, purpose) in GENERIC.items():
        specs = [spec for spec in catalog if operation in spec.operations]
        if not specs:
            continue
        default = _default_for(specs, preferred)
        schema = tool_input_schema(specs, operation, models=None, default_model=default,
                                   deliver_default=settings.deliver, image_help=image_help, open_params=True)
        description = f"{purpose}\nModels (default {default}):\n{model_guide(specs, operation)}"
        tools.append(ToolSpec(name, title, description, schema, operation, default))
    openai = [spec for spec in catalog if spec.provider == "openai" and "generate" in spec.operations]
    if openai:
        name, title, preferred_openai, purpose = OPENAI_TOOL
        default = _default_for(openai, preferred_openai)
        tools.append(_model_tool(name, title, purpose, openai, default, settings, image_help, choose=True))
    for name, (model_id, title, purpose) in MODEL_TOOLS.items():
        spec = gateway.registry.find(model_id)
        if spec is not None and "generate" in spec.operations:
            tools.append(_model_tool(name, title, purpose, [spec], spec.id, settings, image_help, choose=False))
    return tools


def _model_tool(name: str, title: str, purpose: str, specs: list[ModelSpec], default: str, settings: MCPSettings,
                image_help: str, *, choose: bool) -> ToolSpec:
    schema = tool_input_schema(specs, "generate", models=[s.id for s in specs] if choose else [],
                               default_model=default, deliver_default=settings.deliver,
                               image_help=image_help, open_params=False)
    description = f"{purpose}\n{model_guide(specs, 'generate')}"
    return ToolSpec(name, title, description, schema, "generate", default)


# checking arguments ---------------------------------------------------------------------------


def check_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> None:
    """Raise ``InvalidRequest`` naming the first argument that breaks the advertised schema."""
    from imagegate.schema_errors import check_schema

    check_schema(schema, arguments)


def build_request(tool: ToolSpec, arguments: dict[str, Any],
                  settings: MCPSettings) -> tuple[ImageRequest, Deliver]:
    """The gateway request for checked arguments, and the delivery asked for."""
    from imagegate.models import ImageInput, ImageRequest

    args = dict(arguments)
    deliver: Deliver = args.pop("deliver", settings.deliver)
    extra = args.pop("params", None) or {}
    images = [ImageInput.parse(ref) for ref in args.pop("images", [])]
    if "image" in args:
        images.append(ImageInput.parse(args.pop("image")))
    mask = args.pop("mask", None)
    request = ImageRequest(
        prompt=args.pop("prompt", None), model=args.pop("model", tool.default_model), size=args.pop("size", None),
        n=args.pop("n", None), params={**extra, **args}, images=images,
        mask=ImageInput.parse(mask) if mask else None)
    return request, deliver


# calling ----------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _ready(gateway: Gateway, spec: ModelSpec) -> bool:
    """Whether the model's provider is installed and configured (``check_ready`` passes)."""
    from imagegate.errors import ImagegateError

    provider = gateway.registry.providers.get(spec.provider)
    if provider is None:
        return False
    try:
        provider.check_ready(spec)
    except ImagegateError:
        return False
    return True


def _list_models(gateway: Gateway) -> CallToolResult:
    from mcp_types import CallToolResult, TextContent

    models = []
    for spec in gateway.models():
        summary = spec.summary()
        models.append({**summary, "ready": _ready(gateway, spec)})
    body = {"default_model": gateway.settings.gateway.default_model, "models": models}
    return CallToolResult(content=[TextContent(text=_json(body))], structured_content=body)


async def call_tool(gateway: Gateway, tool: ToolSpec, arguments: dict[str, Any], *, settings: MCPSettings,
                    with_paths: bool, send_progress: Send | None,
                    carrier: dict[str, str] | None = None) -> CallToolResult:
    """Run one tool call; every failure is returned as an ``isError`` result, never raised.
    ``carrier`` is the call's trace context (``traceparent``, ``tracestate``)."""
    from mcp_types import CallToolResult

    from .delivery import deliver_content
    from .progress import progress_reporter

    try:
        check_arguments(tool.input_schema, arguments)
        if tool.operation is None:
            return _list_models(gateway)
        request, deliver = build_request(tool, arguments, settings)
        async with progress_reporter(send_progress, settings.progress_interval_s) as progress:
            result = await gateway.run(tool.operation, request, frontend="mcp", progress=progress,
                                       trusted_paths=False, carrier=carrier)
        contract = result.contract(with_paths=with_paths)
        if not with_paths:
            for image in contract["images"]:
                if str(image["url"] or "").startswith("file:"):
                    image["url"] = None
        content = await deliver_content(gateway, result, deliver, settings, summary=_json(contract))
        return CallToolResult(content=content, structured_content=contract)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return error_result(exc, f"tool {tool.name}")
