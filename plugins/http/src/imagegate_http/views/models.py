"""``/v1/models``: the catalog in OpenAI's list shape, each model with its capabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..envelope import json_response
from ..keys import GATEWAY

if TYPE_CHECKING:
    from imagegate import ModelSpec

__all__ = ["get_model", "list_models"]


def model_object(spec: ModelSpec) -> dict[str, Any]:
    """OpenAI's model object (``created`` is 0: the catalog has no dates) plus ``spec.summary()``."""
    return {"object": "model", "created": 0, "owned_by": spec.provider, **spec.summary()}


async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models."""
    gateway = request.app[GATEWAY]
    return json_response({"object": "list", "data": [model_object(spec) for spec in gateway.models()]})


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{model}: one model by short id, qualified id or alias."""
    gateway = request.app[GATEWAY]
    spec = await gateway.resolve_model(request.match_info["model"])
    return json_response(model_object(spec))
