"""The ``replicate`` provider: the catalog models and any ``replicate/owner/name[:version]``.

A model the catalog does not list is resolved from its schema on Replicate (``GET
/models/{owner}/{name}``: ``latest_version.openapi_schema``, or a version's own), once per process
(:class:`~imagegate_replicate.spec_cache.SpecCache`); the core then validates every request
against it before a prediction is created.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from imagegate import BaseProvider, ImagegateError, InvalidRequest, NotFound, ProviderResult, Timeout, UpstreamError

from .api import ReplicateAPI
from .input_files import FileInputs, check_operation_values
from .outputs import fetch_images
from .predictions import PredictionRun
from .schema import spec_from_schema
from .spec_cache import SpecCache

if TYPE_CHECKING:
    import aiohttp

    from imagegate import ModelSpec, ProviderCall

    from .settings import ReplicateSettings

__all__ = ["ReplicateProvider", "model_input"]

PREFIX = "replicate/"
_REF = re.compile(r"^([A-Za-z0-9][\w.-]*)/([A-Za-z0-9][\w.-]*)(?::([A-Za-z0-9]+))?$")


def model_input(call: ProviderCall) -> dict[str, Any]:
    """The prediction's ``input`` but for the files: prompt, the model's own parameters, size and
    count mapped; :class:`InvalidRequest` for values that need images the call lacks."""
    check_operation_values(call)
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

    def __init__(self, config: ReplicateSettings, catalog: list[ModelSpec] | None = None) -> None:
        self.config = config
        self.catalog = list(catalog or [])
        self.resolved = SpecCache()
        self._background: set[asyncio.Task[Any]] = set()

    def check_ready(self, model: ModelSpec) -> None:
        self.config.token()

    async def resolve(self, model_id: str, session: aiohttp.ClientSession) -> ModelSpec | None:
        """Fetch ``owner/name`` (latest version) or ``owner/name:version`` once and cache its spec."""
        if not model_id.startswith(PREFIX):
            return None
        ref = model_id.removeprefix(PREFIX)
        match = _REF.match(ref)
        if match is None:
            msg = f"{model_id!r} is not a Replicate model id: write replicate/owner/name[:version]"
            raise InvalidRequest(msg, param="model", provider=self.name)
        owner, name, version = match.groups()
        return await self.resolved.get(ref, lambda: self._fetch_spec(session, ref, owner, name, version))

    async def _fetch_spec(self, session: aiohttp.ClientSession, ref: str, owner: str, name: str,
                          version: str | None) -> ModelSpec:
        try:
            async with asyncio.timeout(self.config.timeout_s):
                return await self._read_spec(ReplicateAPI(session, self.config), ref, owner, name, version)
        except ImagegateError as exc:
            exc.provider = self.name
            raise
        except TimeoutError:
            msg = f"Replicate did not send the schema of model {ref} within {self.config.timeout_s:g} s"
            raise Timeout(msg, provider=self.name) from None
        except OSError as exc:  # aiohttp.ClientError and socket errors alike
            msg = f"fetching the schema of Replicate model {ref} failed: {type(exc).__name__}"
            raise UpstreamError(msg, provider=self.name) from None

    async def _read_spec(self, api: ReplicateAPI, ref: str, owner: str, name: str,
                         version: str | None) -> ModelSpec:
        description = ""
        try:
            if version:
                found = await api.version(owner, name, version)
            else:
                model = await api.model(owner, name)
                description = str(model.get("description") or "")
                found = model.get("latest_version") or {}
        except NotFound:
            what = f"version {version} of model {owner}/{name}" if version else f"model {owner}/{name}"
            msg = f"Replicate has no {what}; check the name (and version) on replicate.com"
            raise NotFound(msg, param="model") from None
        schema = found.get("openapi_schema") if isinstance(found, dict) else None
        if not isinstance(schema, dict):
            msg = f"Replicate model {ref} has no published version to run"
            raise NotFound(msg, param="model")
        return spec_from_schema(ref, schema, version=version, description=description)

    async def run(self, call: ProviderCall) -> ProviderResult:
        api = ReplicateAPI(call.session, self.config, call.headers, renames=_renames(call.model))
        values = model_input(call)
        files = FileInputs(api)
        try:
            values.update(await files.values(call))
            prediction = await PredictionRun(api, call, self._background).run(values)
        finally:
            await files.aclose()
        return await _result(call, prediction)

    async def resume(self, call: ProviderCall) -> ProviderResult:
        """Follow the prediction ``call.resume_from`` names (made before a restart) instead of a new one."""
        assert call.resume_from is not None
        api = ReplicateAPI(call.session, self.config, call.headers, renames=_renames(call.model))
        prediction = await PredictionRun(api, call, self._background).resume(call.resume_from["prediction"])
        return await _result(call, prediction)

    async def list_upstream_models(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """The catalog models Replicate still serves (``GET /models/{owner}/{name}``; a 404 is
        a model it no longer serves), for ``imagegate models --check``."""
        api = ReplicateAPI(session, self.config)
        upstreams = sorted({spec.upstream.partition(":")[0] for spec in self.catalog})
        served = await asyncio.gather(*(self._serves(api, upstream) for upstream in upstreams))
        return [{"id": upstream, "shutdown_date": None}
                for upstream, found in zip(upstreams, served, strict=True) if found]

    async def _serves(self, api: ReplicateAPI, upstream: str) -> bool:
        owner, _, name = upstream.partition("/")
        try:
            await api.model(owner, name)
        except NotFound:
            return False
        return True

    async def aclose(self) -> None:
        """Let cancel requests still in flight finish."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


async def _result(call: ProviderCall, prediction: dict[str, Any]) -> ProviderResult:
    """A finished prediction's images (downloaded through the gateway) and identity."""
    version = prediction.get("version")
    return ProviderResult(
        images=await fetch_images(call, prediction),
        provider_request_id=prediction["id"],
        model_version=version if isinstance(version, str) and version != "hidden" else None,
    )
