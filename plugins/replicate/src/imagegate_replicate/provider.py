"""The ``replicate`` provider: the three catalog models and any ``replicate/owner/name[:version]``."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from imagegate.errors import ImagegateError, InvalidRequest, NotFound, UpstreamError
from imagegate.provider import BaseProvider, ProviderResult

from .api import ReplicateAPI
from .outputs import fetch_images
from .predictions import PredictionRun
from .schema import spec_from_schema

if TYPE_CHECKING:
    import aiohttp

    from imagegate.catalog import ModelSpec
    from imagegate.provider import ProviderCall

    from .settings import ReplicateSettings

__all__ = ["ReplicateProvider", "model_input"]

PREFIX = "replicate/"
_REF = re.compile(r"^([A-Za-z0-9][\w.-]*)/([A-Za-z0-9][\w.-]*)(?::([A-Za-z0-9]+))?$")


def model_input(call: ProviderCall) -> dict[str, Any]:
    """The prediction's ``input``: prompt, the model's own parameters, size and count mapped."""
    spec = call.model
    values: dict[str, Any] = {} if call.prompt is None else {"prompt": call.prompt}
    values.update(call.params)
    if spec.size_param and call.size:
        values[spec.size_param] = call.size
    if spec.n_param:
        values[spec.n_param] = call.n
    return values


def _renames(spec: ModelSpec) -> dict[str, str]:
    """Upstream input names -> the gateway's, for error messages."""
    pairs = {spec.n_param: "n", spec.size_param: "size"}
    return {upstream: ours for upstream, ours in pairs.items() if upstream}


class ReplicateProvider(BaseProvider):
    """Predictions on Replicate; abandoning one cancels it, so ``cancellable`` is true."""

    name = "replicate"
    cancellable = True

    def __init__(self, config: ReplicateSettings) -> None:
        self.config = config
        self._resolved: dict[str, ModelSpec] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def check_ready(self, model: ModelSpec) -> None:
        self.config.token()

    async def resolve(self, model_id: str, session: aiohttp.ClientSession) -> ModelSpec | None:
        """Fetch ``owner/name`` (latest version) or ``owner/name:version`` once and cache its spec."""
        if not model_id.startswith(PREFIX):
            return None
        ref = model_id.removeprefix(PREFIX)
        if ref in self._resolved:
            return self._resolved[ref]
        match = _REF.match(ref)
        if match is None:
            msg = f"{model_id!r} is not a Replicate model id: write replicate/owner/name[:version]"
            raise InvalidRequest(msg, param="model", provider=self.name)
        owner, name, version = match.groups()
        try:
            spec = await self._fetch_spec(ReplicateAPI(session, self.config), ref, owner, name, version)
        except ImagegateError as exc:
            exc.provider = self.name
            raise
        except OSError as exc:  # aiohttp.ClientError and socket errors alike
            msg = f"fetching the schema of Replicate model {ref} failed: {type(exc).__name__}"
            raise UpstreamError(msg, provider=self.name) from None
        self._resolved[ref] = spec
        return spec

    async def _fetch_spec(self, api: ReplicateAPI, ref: str, owner: str, name: str,
                          version: str | None) -> ModelSpec:
        description = ""
        if version:
            found = await api.version(owner, name, version)
        else:
            model = await api.model(owner, name)
            description = str(model.get("description") or "")
            found = model.get("latest_version") or {}
        schema = found.get("openapi_schema") if isinstance(found, dict) else None
        if not isinstance(schema, dict):
            msg = f"Replicate model {ref} has no published version to run"
            raise NotFound(msg, param="model")
        return spec_from_schema(ref, schema, version=version, description=description)

    async def run(self, call: ProviderCall) -> ProviderResult:
        api = ReplicateAPI(call.session, self.config, call.headers, renames=_renames(call.model))
        prediction = await PredictionRun(api, call, self._background).run(model_input(call))
        images = await fetch_images(call, prediction)
        version = prediction.get("version")
        return ProviderResult(
            images=images,
            provider_request_id=prediction["id"],
            model_version=version if isinstance(version, str) and version != "hidden" else None,
        )

    async def aclose(self) -> None:
        """Let cancel requests still in flight finish."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
