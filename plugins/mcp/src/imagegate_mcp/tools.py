"""The tools: which exist for the installed catalog, how their arguments are checked, and the calls.

Generic tools (``generate_image``, ``edit_image``, ``create_variation``) serve every model; the
models' own options go in their ``params`` object, and ``describe_model`` gives one model's full
argument schema (see ``describe.py``). Per-model tools (``generate-openai``,
``generate-fluxdev``, ...) come from the catalog's :class:`~imagegate._catalog.ToolHint` data, so a
third-party provider declares its own; models sharing a tool name become one tool with a ``model``
argument, and each takes its models' own parameter names. Only models whose provider can be
called (its key is set) are offered, unless ``MCP__OFFER_UNCONFIGURED=true``. Arguments are checked
against the advertised schema here and against the catalog by the gateway, both before any
upstream call; every failure becomes an ``isError`` result (see ``errors.py``). A generation
still running at ``MCP__SOFT_DEADLINE_S`` returns ``status: "pending"`` and its job id, for
``get_job`` (see ``job_tools.py``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .describe import DESCRIBE_INPUT, DESCRIBE_SCHEMA
from .errors import error_result
from .job_tools import CANCEL_JOB, GET_JOB, JOB_TOOLS, LIST_JOBS
from .results import result_content, structured
from .schemas import MODELS_SCHEMA, RESULT_SCHEMA, image_input_description, model_list, tool_input_schema
from .transform_tool import TRANSFORM_TOOL

if TYPE_CHECKING:
    from imagegate import Caller, Gateway, ImageRequest, ModelSpec, Operation
    from mcp_types import CallToolResult, Tool

    from .job_tools import Relays
    from .links import FileLinks
    from .progress import Send
    from .settings import Deliver, MCPSettings

__all__ = ["DESCRIBE", "ToolSpec", "build_tools", "call_tool", "offered_models"]

log = logging.getLogger("imagegate.mcp")

DESCRIBE = "describe_model"

GENERIC = {
    "generate": ("generate_image", "Generate image",
                 "Generate images from a text prompt with any offered model. Paid models spend money and "
                 "every image is stored (its id can be passed to edit_image)."),
    "edit": ("edit_image", "Edit image",
             "Edit one or more images following a prompt (optionally only inside a mask, or guided by a "
             "markup). Paid models spend money; results are stored."),
    "variation": ("create_variation", "Create image variation",
                  "Make variations of an image, without a prompt. Results are stored."),
}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One advertised tool and what a call of it needs."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    operation: Operation | None
    default_model: str | None = None
    output_schema: dict[str, Any] | None = field(default_factory=lambda: RESULT_SCHEMA)

    def tool(self) -> Tool:
        from mcp_types import Tool, ToolAnnotations

        # only what differs from the spec's defaults (not read-only, destructive, not idempotent, open world)
        if self.name == TRANSFORM_TOOL:  # makes a new image, changes nothing, calls no upstream
            annotations = ToolAnnotations(destructive_hint=False, open_world_hint=False)
        elif self.name in JOB_TOOLS:
            annotations = (ToolAnnotations(idempotent_hint=True) if self.name == CANCEL_JOB
                           else ToolAnnotations(read_only_hint=True))
        elif self.operation is None:
            annotations = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
        else:
            annotations = ToolAnnotations(destructive_hint=False)
        return Tool(name=self.name, title=self.title, description=self.description,
                    input_schema=self.input_schema, annotations=annotations,
                    output_schema=self.output_schema)


def _default_for(specs: list[ModelSpec], preferred: str) -> str:
    return next((spec.id for spec in specs if preferred in (spec.id, spec.qualified_id, *spec.aliases)),
                specs[0].id)


def _tool_default(specs: list[ModelSpec]) -> ModelSpec:
    """A per-model tool's model when a call names none: the hint marked default, else the
    recommended model, else the first."""
    return (next((spec for spec in specs if spec.tool and spec.tool.default), None)
            or next((spec for spec in specs if spec.recommended), None) or specs[0])


def offered_models(gateway: Gateway, settings: MCPSettings) -> list[ModelSpec]:
    """The models the tools offer: not retired, and callable unless ``offer_unconfigured``."""
    return [spec for spec in gateway.models() if spec.status != "retired"
            and (settings.offer_unconfigured or gateway.registry.ready(spec))]


def build_tools(gateway: Gateway, settings: MCPSettings) -> list[ToolSpec]:
    """The tools for the gateway's catalog."""
    catalog = offered_models(gateway, settings)
    inputs = gateway.settings.input
    image_help = image_input_description(inputs.allowed_roots, inputs.allowed_hosts)
    found = gateway.registry.find(gateway.default_model)
    preferred = found.id if found else gateway.default_model
    tools = [ToolSpec("list_available_models", "List image models", (
        "List the installed image models: what each is for, its operations, sizes, parameters, and "
        "whether its provider is configured. Read-only; call it before choosing a model."),
        {"type": "object", "properties": {}, "additionalProperties": False}, None, output_schema=MODELS_SCHEMA),
        ToolSpec(DESCRIBE, "Describe a model", (
            "One model's arguments as JSON Schema per operation, with sizes, formats, prices and lifecycle. "
            "Read-only."),
            DESCRIBE_INPUT, None, output_schema=DESCRIBE_SCHEMA)]
    for operation, (name, title, purpose) in GENERIC.items():
        specs = [spec for spec in catalog if operation in spec.operations]
        if not specs:
            continue
        default = _default_for(specs, preferred)
        schema = tool_input_schema(specs, operation, models=None, default_model=default,
                                   deliver_default=settings.deliver, image_help=image_help, model_params=False)
        description = (f"{purpose} Default model: {default}. Models (list_available_models describes them):\n"
                       f"{model_list(specs)}")
        tools.append(ToolSpec(name, title, description, schema, operation, default))
    groups: dict[str, list[ModelSpec]] = {}
    for spec in catalog:
        if spec.tool is not None and "generate" in spec.operations:
            groups.setdefault(spec.tool.name, []).append(spec)
    for name, specs in groups.items():
        if any(tool.name == name for tool in tools):
            log.warning("the per-model tool %s of %s clashes with another tool; not offered", name,
                        ", ".join(spec.id for spec in specs))
            continue
        tools.append(_model_tool(name, specs, settings, image_help))
    from .transform_tool import DESCRIPTION, OUTPUT_SCHEMA, transform_schema

    tools.append(ToolSpec(TRANSFORM_TOOL, "Transform image", DESCRIPTION, transform_schema(), None,
                          output_schema=OUTPUT_SCHEMA))
    if any(tool.operation for tool in tools):
        tools.extend(ToolSpec(name, title, description, schema, None,
                              output_schema=RESULT_SCHEMA if name == GET_JOB else None)
                     for name, (title, description, schema) in JOB_TOOLS.items())
    return tools


def _model_tool(name: str, specs: list[ModelSpec], settings: MCPSettings, image_help: str) -> ToolSpec:
    default = _tool_default(specs)
    hint = default.tool
    assert hint is not None
    models = [spec.id for spec in specs] if len(specs) > 1 else []
    schema = tool_input_schema(specs, "generate", models=models, default_model=default.id,
                               deliver_default=settings.deliver, image_help=image_help, model_params=True,
                               named_params=hint.options)
    description = f"{hint.description} Default model: {default.id}."  # the others: the model enum
    return ToolSpec(name, hint.title, description, schema, "generate", default.id)


# checking arguments ---------------------------------------------------------------------------


def check_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> None:
    """Raise ``InvalidRequest`` naming the first argument that breaks the advertised schema."""
    from imagegate.frontend import check_schema

    check_schema(schema, arguments)


def build_request(tool: ToolSpec, arguments: dict[str, Any],
                  settings: MCPSettings) -> tuple[ImageRequest, Deliver]:
    """The gateway request for checked arguments, and the delivery asked for."""
    from imagegate import ImageInput, ImageRequest, InvalidRequest

    args = dict(arguments)
    deliver: Deliver = args.pop("deliver", settings.deliver)
    extra = args.pop("params", None) or {}
    refs = [*args.pop("images", []), *([args.pop("image")] if "image" in args else [])]
    mask, markup = args.pop("mask", None), args.pop("markup", None)
    for param, ref in [*(("image", ref) for ref in refs), ("mask", mask or ""), ("markup", markup or "")]:
        if "\x00" in ref:
            raise InvalidRequest(f"{param} contains a NUL character; no file name or image has one", param=param)
    images = [ImageInput.parse(ref) for ref in refs]
    request = ImageRequest(
        prompt=args.pop("prompt", None), model=args.pop("model", tool.default_model), size=args.pop("size", None),
        n=args.pop("n", None), grid=args.pop("grid", None), cells=args.pop("cells", None),
        params={**extra, **args}, images=images,
        mask=ImageInput.parse(mask) if mask else None, markup=ImageInput.parse(markup) if markup else None)
    return request, deliver


# calling ----------------------------------------------------------------------------------------


_LIFECYCLE = ("status", "shutdown_date", "replacement")


def _list_models(gateway: Gateway) -> CallToolResult:
    models = []
    for spec in gateway.models():  # compact: allowed values in words, empty fields left out
        summary = {**spec.summary(), "parameters": {name: p.allowed() for name, p in spec.params.items()}}
        entry = {key: value for key, value in summary.items() if value not in (None, [], {}) or key in _LIFECYCLE}
        models.append({**entry, "ready": gateway.registry.ready(spec)})
    return structured({"default_model": gateway.default_model, "models": models})


async def call_tool(gateway: Gateway, tool: ToolSpec, arguments: dict[str, Any], *, settings: MCPSettings,
                    with_paths: bool, send_progress: Send | None, caller: Caller, relays: Relays,
                    carrier: dict[str, str] | None = None, links: FileLinks | None = None) -> CallToolResult:
    """Run one tool call; every failure is returned as an ``isError`` result, never raised.
    ``caller`` owns the jobs it starts and sees (and is held to its key's limits); ``relays`` carry running jobs' progress;
    ``carrier`` is the call's trace context (``traceparent``, ``tracestate``); ``links`` gives the
    images URLs a remote client can fetch (streamable HTTP)."""
    from . import job_tools
    from .describe import describe_model

    try:
        check_arguments(tool.input_schema, arguments)
        if tool.name == DESCRIBE:
            return structured(await describe_model(gateway, arguments, settings))
        if tool.name == TRANSFORM_TOOL:
            from .transform_tool import call_transform

            return await call_transform(gateway, arguments, with_paths=with_paths)
        if tool.name == GET_JOB:
            return await job_tools.get_job(gateway, arguments, settings=settings, owner=caller.jobs_owner, relays=relays,
                                           send_progress=send_progress, with_paths=with_paths, links=links)
        if tool.name == CANCEL_JOB:
            return structured(await job_tools.cancel_job(gateway, arguments, owner=caller.jobs_owner))
        if tool.name == LIST_JOBS:
            return structured(await job_tools.list_jobs(gateway, arguments, owner=caller.jobs_owner))
        if tool.operation is None:
            return _list_models(gateway)
        request, deliver = build_request(tool, arguments, settings)
        done = await job_tools.submit_and_wait(gateway, tool.operation, request, deliver, settings=settings,
                                               caller=caller, relays=relays, send_progress=send_progress,
                                               carrier=carrier)
        if isinstance(done, dict):
            return job_tools.pending_content(done, settings)
        return await result_content(gateway, done, deliver, settings, with_paths=with_paths, links=links)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return error_result(exc if with_paths else without_folders(exc), f"tool {tool.name}")


def without_folders(exc: Exception) -> Exception:
    """The error as a remote caller may see it: a refused input path says only that it is not under
    an allowed input folder, never which folders the server allows (its directories)."""
    from imagegate import PermissionDenied

    if isinstance(exc, PermissionDenied) and exc.param in ("image", "mask", "markup") and "folder" in exc.message:
        return PermissionDenied(f"{exc.param}: not under an allowed input folder", param=exc.param)
    return exc
