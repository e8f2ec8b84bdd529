"""``describe_model``: one model's full description, so the generic tools' schemas can stay small.

A model is named by catalog id, qualified id or alias, or by a provider's own name that the
provider resolves through the gateway (``replicate/owner/name``, or just ``owner/name``: each
provider is asked for ``provider/owner/name``). An unknown name is a ``not_found`` error naming the
closest catalog names.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Gateway, ModelSpec

    from .settings import MCPSettings

__all__ = ["DESCRIBE_INPUT", "DESCRIBE_SCHEMA", "describe_model", "find_model"]

DESCRIBE_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"model": {"type": "string", "minLength": 1, "maxLength": 300,
                             "description": "Model id, alias, or provider/owner/name."}},
    "required": ["model"],
    "additionalProperties": False,
}

DESCRIBE_SCHEMA: dict[str, Any] = {"type": "object", "required": ["id", "provider", "operations", "arguments"]}
"""In brief, so ``tools/list`` stays small; the object also carries ``status``, ``ready``, ``pricing`` and more."""


async def find_model(gateway: Gateway, name: str) -> ModelSpec:
    """The model ``name`` names, resolved by the catalog or a provider; ``NotFound`` with close matches."""
    from imagegate import NotFound

    tried = [name]
    if "/" in name and name.split("/", 1)[0] not in gateway.registry.providers:
        tried += [f"{provider}/{name}" for provider in gateway.registry.providers]
    for candidate in tried:
        try:
            return await gateway.resolve_model(candidate)
        except NotFound:
            continue
    names = [label for spec in gateway.models() for label in (spec.id, spec.qualified_id, *spec.aliases)]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(close)}" if close else "list_available_models lists the catalog"
    msg = f"unknown model {name!r}; {hint}"
    raise NotFound(msg, param="model")


def describe(spec: ModelSpec, settings: MCPSettings, *, ready: bool,
             image_help: str) -> dict[str, Any]:
    """Capabilities, lifecycle, prices, and per operation the JSON Schema of the arguments it takes
    (named as a per-model tool names them; the generic tools take the model's own options in ``params``)."""
    from .schemas import tool_input_schema

    arguments = {operation: tool_input_schema([spec], operation, models=[], default_model=None,
                                              deliver_default=settings.deliver, image_help=image_help,
                                              model_params=True)
                 for operation in spec.operations}
    body = {
        **spec.summary(),
        "input_formats": spec.input_formats,
        "max_input_images": spec.max_input_images,
        "mask": spec.mask,
        "requirements": [rule.model_dump(mode="json") for rule in spec.requirements],
        "pricing": spec.pricing.model_dump(mode="json", exclude_defaults=True),
        "arguments": arguments,
        "ready": ready,
    }
    if spec.input_schema is not None:
        body["input_schema"] = spec.input_schema
    return body


async def describe_model(gateway: Gateway, arguments: dict[str, Any], settings: MCPSettings) -> dict[str, Any]:
    """The description of the model the ``model`` argument names."""
    from .schemas import image_input_description

    spec = await find_model(gateway, arguments["model"])
    inputs = gateway.settings.input
    return describe(spec, settings, ready=gateway.registry.ready(spec),
                    image_help=image_input_description(inputs.allowed_roots, inputs.allowed_hosts))
