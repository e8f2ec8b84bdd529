"""imagegate: generate and edit images with any provider, from MCP, HTTP or the command line.

``__all__`` is the whole contract for plugin authors: the types the hooks (:mod:`imagegate.hookspecs`)
hand out and take. Modules whose names start with ``_`` are the implementation and may change in
any release. Small public homes hold the helpers some kinds of plugin need: :mod:`imagegate.files`
(storage plugins), :mod:`imagegate.frontend` (front-ends), :mod:`imagegate.cli` (plugin commands)
and :mod:`imagegate.testing` (the test kit). Names load on first use, so importing ``imagegate``
(and running ``imagegate --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from ._lazy import lazy_getattr

hookimpl = pluggy.HookimplMarker("imagegate")
"""Marker for hook implementations: ``@hookimpl def register_providers(register, settings): ...``"""

if TYPE_CHECKING:
    from ._callers import Caller
    from ._catalog import (
        ModelSpec,
        Operation,
        ParamSpec,
        PriceRule,
        PriceSource,
        Pricing,
        Requirement,
        SizeSpec,
        Status,
        ToolHint,
        validate_request,
    )
    from ._errors import (
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
    from ._events import (
        DeprecatedModelRequested,
        Event,
        ImageDeleted,
        ImageStored,
        KeySpent,
        RequestFailed,
        RequestFinished,
        RequestStarted,
        RetryScheduled,
    )
    from ._gateway import Gateway, open_gateway
    from ._job_store import JobStore, JobStoreRegistry
    from ._keys import KeyStore, KeyUsage, VirtualKey
    from ._limits import Limiter
    from ._middleware import Middleware, Step
    from ._models import ImageInput, ImageOut, ImageRequest, ImageResult
    from ._provider import (
        BaseProvider,
        InputImage,
        ListsUpstreamModels,
        Progress,
        Provider,
        ProviderCall,
        ProviderImage,
        ProviderResult,
        UpstreamModel,
        Usage,
    )
    from ._registry import ProviderRegistry, StorageRegistry
    from ._settings import CommaList, ProviderSettings, Settings, default_data_dir
    from ._settings_registry import SettingsRegistry
    from ._storage import Saved, Storage, StoredEntry

_LAZY: dict[str, str] = {
    "Caller": "imagegate._callers",
    **dict.fromkeys(["ModelSpec", "Operation", "ParamSpec", "PriceRule", "PriceSource", "Pricing", "Requirement",
                     "SizeSpec", "Status", "ToolHint", "validate_request"], "imagegate._catalog"),
    **dict.fromkeys(
        ["AuthenticationError", "ContentFiltered", "ImagegateError", "InternalError", "InvalidRequest",
         "ModelRetired", "NotFound", "PermissionDenied", "QuotaExceeded", "RateLimited", "StorageError",
         "Timeout", "Unavailable", "UpstreamError"],
        "imagegate._errors"),
    **dict.fromkeys(["DeprecatedModelRequested", "Event", "ImageDeleted", "ImageStored", "KeySpent", "RequestFailed",
                     "RequestFinished", "RequestStarted", "RetryScheduled"], "imagegate._events"),
    **dict.fromkeys(["Gateway", "open_gateway"], "imagegate._gateway"),
    **dict.fromkeys(["JobStore", "JobStoreRegistry"], "imagegate._job_store"),
    **dict.fromkeys(["KeyStore", "KeyUsage", "VirtualKey"], "imagegate._keys"),
    "Limiter": "imagegate._limits",
    **dict.fromkeys(["Middleware", "Step"], "imagegate._middleware"),
    **dict.fromkeys(["ImageInput", "ImageOut", "ImageRequest", "ImageResult"], "imagegate._models"),
    **dict.fromkeys(["BaseProvider", "InputImage", "ListsUpstreamModels", "Progress", "Provider", "ProviderCall",
                     "ProviderImage", "ProviderResult", "UpstreamModel", "Usage"], "imagegate._provider"),
    **dict.fromkeys(["ProviderRegistry", "StorageRegistry"], "imagegate._registry"),
    **dict.fromkeys(["CommaList", "ProviderSettings", "Settings", "default_data_dir"], "imagegate._settings"),
    "SettingsRegistry": "imagegate._settings_registry",
    **dict.fromkeys(["Saved", "Storage", "StoredEntry"], "imagegate._storage"),
}

__all__ = ["hookimpl", *sorted(_LAZY)]
__getattr__ = lazy_getattr(__name__, _LAZY)
