"""imagegate: generate and edit images with any provider, from MCP, HTTP or the command line.

What plugins may import is listed in ``__all__``. Heavy names load on first use, so importing
``imagegate`` (and running ``imagegate --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

hookimpl = pluggy.HookimplMarker("imagegate")
"""Marker for hook implementations: ``@hookimpl def register_providers(register, settings): ...``"""

if TYPE_CHECKING:
    from .catalog import ModelSpec, ParamSpec, Pricing, PriceRule, Requirement, SizeSpec, Status, ToolHint
    from .errors import (
        AuthenticationError,
        ContentFiltered,
        ImagegateError,
        InternalError,
        InvalidRequest,
        ModelRetired,
        NotFound,
        PermissionDenied,
        QuotaExceeded,
        RateLimited,
        StorageError,
        Timeout,
        Unavailable,
        UpstreamError,
    )
    from .gateway import Gateway, open_gateway
    from .middleware import Step
    from .models import ImageInput, ImageRequest, ImageResult
    from .provider import BaseProvider, InputImage, ProviderCall, ProviderImage, ProviderResult, Usage
    from .settings import CommaList, ProviderSettings, Settings

_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["ModelSpec", "ParamSpec", "Pricing", "PriceRule", "Requirement", "SizeSpec", "Status", "ToolHint"],
        "catalog"),
    **dict.fromkeys(
        [
            "AuthenticationError", "ContentFiltered", "ImagegateError", "InternalError", "InvalidRequest",
            "ModelRetired", "NotFound", "PermissionDenied", "QuotaExceeded", "RateLimited", "StorageError",
            "Timeout", "Unavailable", "UpstreamError",
        ],
        "errors",
    ),
    "Gateway": "gateway",
    "open_gateway": "gateway",
    "Step": "middleware",
    **dict.fromkeys(["ImageInput", "ImageRequest", "ImageResult"], "models"),
    **dict.fromkeys(
        ["BaseProvider", "InputImage", "ProviderCall", "ProviderImage", "ProviderResult", "Usage"], "provider"
    ),
    **dict.fromkeys(["CommaList", "ProviderSettings", "Settings"], "settings"),
}

__all__ = ["hookimpl", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'imagegate' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
