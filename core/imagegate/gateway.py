"""The one pipeline every front-end calls.

resolve model -> validate against its spec -> check the provider is ready -> resolve input images
-> provider call (deadline, concurrency and RPM slot, retries with back-off) -> verify the bytes
-> store (spooling on failure) -> result. Each step runs inside the plugins' middlewares, and
events are emitted for metrics and logs, so front-ends and providers stay free of both.

Money rules: nothing is sent before validation passes; once an upstream call may have been paid
for, its images are finished and stored even if the caller goes away, and stay reachable by id.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .bounded_body import body_limit
from .catalog import FORMAT_MIME, ModelSpec, Operation, ValidRequest, validate_request
from .errors import (
    ImagegateError,
    InternalError,
    InvalidRequest,
    NotFound,
    StorageError,
    Timeout,
    UpstreamError,
)
from .events import Event, ImageStored, RequestFailed, RequestFinished, RequestStarted, RetryScheduled
from .filestore import FileStore
from .http_client import download, new_session
from .ids import new_image_id, new_request_id
from .imagetype import NotAnImage, inspect_image
from .inputs import resolve_input
from .lifecycle import Lifecycle, apply_lifecycle, choose_default_model
from .limits import ProviderLimiter, backoff_delay
from .middleware import Middleware, Step, run_wrapped
from .models import Cost, ImageOut, ImageRequest, ImageResult
from .pricing import actual_cost, estimate_cost
from .provider import InputImage, Progress, Provider, ProviderCall, ProviderImage, ProviderResult
from .public_fetch import new_public_session
from .redact import Redactor
from .registry import ProviderRegistry, StorageRegistry
from .settings import ProviderSettings, Settings
from .stored_images import StoredImages

if TYPE_CHECKING:
    import aiohttp
    import pluggy

    from .storage import Storage

__all__ = ["Gateway", "open_gateway"]

log = logging.getLogger("imagegate.gateway")

DOWNLOAD_ATTEMPTS = 3
"""Tries to fetch one output URL of an upstream that was already paid."""

T = TypeVar("T")


def _no_progress(message: str, data: dict[str, Any]) -> None:
    return None


@dataclass(slots=True)
class _Job:
    """One request as it moves through the pipeline."""

    request_id: str
    frontend: str
    operation: Operation
    spec: ModelSpec
    provider: Provider
    valid: ValidRequest
    images: list[InputImage]
    mask: InputImage | None
    deadline: float
    progress: Progress
    estimated_usd: float | None
    parameters: dict[str, Any]
    stream: bool = False
    keep_base64: bool = False
    retries: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    paid: Cost | None = None
    """Set once the provider has answered: what was spent, whatever happens next."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    markup: InputImage | None = None

    def event_fields(self) -> dict[str, str]:
        return {
            "request_id": self.request_id,
            "frontend": self.frontend,
            "provider": self.spec.provider,
            "model": self.spec.id,
            "operation": self.operation,
        }


class Gateway(StoredImages):
    """Providers, catalog and storage assembled from plugins, and the pipeline over them."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager, *,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.settings = settings
        self.pm = pm
        self.registry = ProviderRegistry()
        pm.hook.register_providers(register=self.registry, settings=settings)
        self.registry.apply_config(settings.models, settings.aliases)
        storages = StorageRegistry()
        pm.hook.register_storage(register=storages)
        backend = settings.storage.backend
        if backend not in storages.factories:
            from .install_hints import STORAGE_BACKENDS, install_hint

            allowed = ", ".join(sorted(storages.factories)) or "none installed"
            msg = (f"STORAGE__BACKEND={backend!r} is not available; installed backends: {allowed}"
                   f"{install_hint(STORAGE_BACKENDS.get(backend))}")
            raise InvalidRequest(msg, param="STORAGE__BACKEND")
        self.storage: Storage = storages.factories[backend](settings)
        self.spool = FileStore(settings.storage.resolved_spool_dir())
        self.redactor = Redactor.from_settings(settings)
        self.middlewares: list[Middleware] = [m for m in pm.hook.provider_call_wrapper(gateway=self) if m]
        self._sleep = asyncio.sleep if sleep is None else sleep
        self._session: aiohttp.ClientSession | None = None
        self._input_session: aiohttp.ClientSession | None = None
        self._limiters: dict[str, ProviderLimiter] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # lifecycle ---------------------------------------------------------------------------------

    async def open(self, *, check_storage: bool = True) -> Gateway:
        """Check storage is writable (unless told not to: reading works from the spool while the
        backend is down) and run the plugins' start-up hooks."""
        if check_storage:
            await self.storage.check_writable()
        for result in self.pm.hook.startup(gateway=self):
            if inspect.isawaitable(result):
                await result
        return self

    async def aclose(self) -> None:
        """Finish paid-for work still running in the background, then close everything."""
        await self.settle()
        await self._shutdown_plugins()
        for provider in self.registry.providers.values():
            await provider.aclose()
        await self.storage.aclose()
        for session in (self._session, self._input_session):
            if session is not None:
                await session.close()

    async def _shutdown_plugins(self) -> None:
        """Run every ``shutdown`` implementation; a failing one is logged, the others still run."""
        for impl in self.pm.hook.shutdown.get_hookimpls():
            try:
                result = impl.function(gateway=self)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("shutdown of plugin %s failed", impl.plugin_name)

    async def settle(self) -> None:
        """Wait for paid-for work that callers abandoned to be finished and stored."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared outbound HTTP session (created on first use)."""
        if self._session is None or self._session.closed:
            self._session = new_session()
        return self._session

    @property
    def input_session(self) -> aiohttp.ClientSession:
        """The session that fetches URLs users name: public addresses only, no redirects, no proxy."""
        if self._input_session is None or self._input_session.closed:
            self._input_session = new_public_session()
        return self._input_session

    # catalog -----------------------------------------------------------------------------------

    @property
    def default_model(self) -> str:
        """The model a request that names none uses."""
        return self.settings.gateway.default_model

    def models(self) -> list[ModelSpec]:
        return sorted(self.registry.models.values(), key=lambda spec: (spec.provider, spec.id))

    @property
    def default_model(self) -> str:
        """The model a request without one gets (``GATEWAY__DEFAULT_MODEL`` or the chosen default)."""
        return choose_default_model(self.settings.gateway.default_model, self.registry)

    async def resolve_model(self, name: str | None) -> ModelSpec:
        """The spec for a short id, qualified id or alias; providers may resolve others."""
        name = name or self.default_model
        found = self.registry.find(name)
        if found is not None:
            return found
        for provider in self.registry.providers.values():
            spec = await provider.resolve(name, self.session)
            if spec is not None:
                return spec
        return self.registry.lookup(name)  # raises NotFound listing the models

    def provider_settings(self, name: str) -> ProviderSettings:
        return self.settings.provider(name)

    def _limiter(self, name: str) -> ProviderLimiter:
        if name not in self._limiters:
            limits = self.provider_settings(name)
            self._limiters[name] = ProviderLimiter(
                name, max_concurrency=limits.max_concurrency, rpm=limits.rpm, sleep=self._sleep
            )
        return self._limiters[name]

    # events and middleware ---------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Hand an event to every ``track_event`` implementation; a failing one is only logged."""
        for impl in self.pm.hook.track_event.get_hookimpls():
            try:
                impl.function(gateway=self, event=event)
            except Exception:
                log.exception("track_event of plugin %s failed", impl.plugin_name)

    async def wrapped(self, step: Step, call: Callable[[], Awaitable[T]]) -> T:
        return await run_wrapped(self.middlewares, step, call)

    # the pipeline ------------------------------------------------------------------------------

    async def generate(self, request: ImageRequest, **kwargs: Any) -> ImageResult:
        return await self.run("generate", request, **kwargs)

    async def edit(self, request: ImageRequest, **kwargs: Any) -> ImageResult:
        return await self.run("edit", request, **kwargs)

    async def variation(self, request: ImageRequest, **kwargs: Any) -> ImageResult:
        return await self.run("variation", request, **kwargs)

    async def estimate(self, operation: Operation, request: ImageRequest) -> dict[str, Any]:
        """Price a request without making it (``--dry-run``); validation still applies."""
        spec = await self.resolve_model(request.model)
        spec, request, lifecycle = apply_lifecycle(self, spec, operation, request)
        valid = self._validate(spec, operation, request)
        return {
            "model": spec.id,
            "provider": spec.provider,
            "operation": operation,
            "parameters": valid.effective(spec),
            "cost": Cost(estimate_cost(spec, valid, len(request.images))).as_dict(),
            "dry_run": True,
            **{k: v for k, v in lifecycle.result_fields().items() if v},
        }

    async def run(self, operation: Operation, request: ImageRequest, *, frontend: str = "api",
                  progress: Progress | None = None, trusted_paths: bool = False,
                  carrier: dict[str, str] | None = None, keep_base64: bool = False) -> ImageResult:
        """Serve one request end to end; raise :class:`~imagegate.errors.ImagegateError`.

        ``frontend`` names the caller (cli, http, mcp) for metrics; ``progress`` receives status
        changes; ``trusted_paths`` lets the CLI read any path its user names; ``carrier`` is the
        inbound request's headers (trace context). With ``keep_base64`` (a front-end answering
        base64), images keep the provider's own canonical base64 as ``ImageOut.b64``; without it,
        that text is let go before storing, so it does not hold memory.
        """
        request_id = new_request_id()
        attributes = {"frontend": frontend, "operation": operation, "request_id": request_id,
                      "model": request.model or self.default_model}
        step = Step("request", attributes, carrier=dict(carrier or {}))
        return await self.wrapped(step, lambda: self._run(
            operation, request, request_id, frontend, progress or _no_progress, trusted_paths, attributes,
            keep_base64))

    async def _run(self, operation: Operation, request: ImageRequest, request_id: str, frontend: str,
                   progress: Progress, trusted_paths: bool, attributes: dict[str, Any],
                   keep_base64: bool) -> ImageResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        job: _Job | None = None
        try:
            job = await self._prepare(operation, request, request_id, frontend, progress, trusted_paths)
            job.keep_base64 = keep_base64
            attributes.update(provider=job.spec.provider, model=job.spec.id, n=job.valid.n, size=job.valid.size)
            self.emit(RequestStarted(**job.event_fields(), parameters=job.valid.params, prompt=job.valid.prompt))
            if job.provider.cancellable:  # the caller going away cancels the upstream call
                result = await self._call_and_store(job)
            else:  # paid for: one task, finished in the background if the caller goes away
                result = await self._finish_anyway(asyncio.ensure_future(self._call_and_store(job)))
        except ImagegateError as exc:
            # an upstream may echo a key in its error text: no configured secret leaves the gateway
            exc.message = self.redactor.text(exc.message)
            exc.args = (exc.message,)
            self._emit_failure(job, exc, started, frontend, operation, request, request_id)
            raise
        except asyncio.CancelledError:
            self._emit_failure(job, Timeout("the caller went away"), started, frontend, operation, request,
                               request_id)
            raise
        result.timings["total_ms"] = round((loop.time() - started) * 1000, 3)
        self.emit(RequestFinished(
            **job.event_fields(), duration_s=loop.time() - started, images=len(result.images),
            bytes=sum(image.bytes for image in result.images), estimated_usd=result.cost.estimated_usd,
            actual_usd=result.cost.actual_usd, retries=job.retries))
        return result

    def _emit_failure(self, job: _Job | None, exc: ImagegateError, started: float, frontend: str,
                      operation: Operation, request: ImageRequest, request_id: str) -> None:
        fields = job.event_fields() if job else {
            "request_id": request_id, "frontend": frontend, "provider": exc.provider or "unknown",
            "model": request.model or self.default_model, "operation": operation}
        paid = job.paid if job else None
        self.emit(RequestFailed(
            **fields, duration_s=asyncio.get_running_loop().time() - started, code=exc.code,
            retryable=exc.retryable, message=exc.message, retries=job.retries if job else 0,
            estimated_usd=paid.estimated_usd if paid else None, actual_usd=paid.actual_usd if paid else None))

    def _validate(self, spec: ModelSpec, operation: Operation, request: ImageRequest) -> ValidRequest:
        return validate_request(
            spec, operation, prompt=request.prompt, size=request.size, n=request.n, params=request.params,
            image_count=len(request.images), has_mask=request.mask is not None,
            has_markup=request.markup is not None)

    async def _prepare(self, operation: Operation, request: ImageRequest, request_id: str, frontend: str,
                       progress: Progress, trusted_paths: bool) -> _Job:
        spec = await self.resolve_model(request.model)
        spec, request, lifecycle = apply_lifecycle(self, spec, operation, request, request_id=request_id,
                                                   frontend=frontend)
        valid = self._validate(spec, operation, request)
        provider = self.registry.providers.get(spec.provider)
        if provider is None:
            msg = f"model {spec.id} needs the {spec.provider!r} provider plugin, which is not installed"
            raise NotFound(msg, param="model", provider=spec.provider)
        if request.stream and not spec.streaming:
            msg = f"{spec.id} does not stream partial images; send stream=false"
            raise InvalidRequest(msg, param="stream")
        provider.check_ready(spec)
        images = [await resolve_input(self, ref, spec, param="image", trusted_paths=trusted_paths)
                  for ref in request.images]
        mask = None
        if request.mask is not None:
            mask = await resolve_input(self, request.mask, spec, param="mask", trusted_paths=trusted_paths)
        markup = None
        if request.markup is not None:
            markup = await resolve_input(self, request.markup, spec, param="markup", trusted_paths=trusted_paths)
        timeout_s = self.provider_settings(spec.provider).timeout_s
        return _Job(
            request_id=request_id, frontend=frontend, operation=operation, spec=spec, provider=provider,
            valid=valid, images=images, mask=mask, deadline=asyncio.get_running_loop().time() + timeout_s,
            progress=progress, estimated_usd=estimate_cost(spec, valid, len(images)),
            parameters=valid.effective(spec), stream=request.stream, lifecycle=lifecycle, markup=markup)

    async def _finish_anyway(self, work: asyncio.Future[T]) -> T:
        """Await paid-for work; if the caller is cancelled, let it finish in the background."""
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            if not work.done():
                task = asyncio.ensure_future(work)
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                log.info("caller went away; paid-for work continues in the background")
            raise

    async def _call_and_store(self, job: _Job) -> ImageResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await self._call_provider_fanned_out(job)
        job.timings["upstream_ms"] = round((loop.time() - started) * 1000, 3)
        if not job.provider.cancellable:  # this whole call already runs shielded (see _run)
            return await self._store_all(job, results)
        store = asyncio.ensure_future(self._store_all(job, results))  # the upstream was paid: store anyway
        return await self._finish_anyway(store)

    async def _call_provider_fanned_out(self, job: _Job) -> list[ProviderResult]:
        """One call, or one per image for models whose API has no count field."""
        if job.spec.n_param is not None or job.valid.n == 1:
            return [await self._call_provider(job, job.valid.n)]
        job.progress("fan_out", {"calls": job.valid.n})
        try:
            async with asyncio.TaskGroup() as group:  # one failure cancels the others' upstream work
                tasks = [group.create_task(self._call_provider(job, 1)) for _ in range(job.valid.n)]
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            raise first.with_traceback(first.__traceback__) from None
        return [task.result() for task in tasks]

    async def _call_provider(self, job: _Job, n: int) -> ProviderResult:
        limits = self.provider_settings(job.spec.provider)
        limiter = self._limiter(job.spec.provider)
        loop = asyncio.get_running_loop()
        max_bytes = int(limits.max_download_mb * 1024 * 1024)
        attempt = 0
        try:
            async with asyncio.timeout_at(job.deadline):
                while True:
                    attempt += 1
                    step = Step("provider_attempt", {
                        "provider": job.spec.provider, "model": job.spec.id, "attempt": attempt,
                        "operation": job.operation, "request_id": job.request_id})
                    call = self._provider_call(job, n, attempt, max_bytes, step.outbound_headers)
                    try:
                        async with limiter.slot(job.deadline):
                            return await self.wrapped(step, lambda: self._attempt(job.provider, call))
                    except ImagegateError as exc:
                        if not exc.retryable or attempt > limits.max_retries:
                            raise
                        delay = backoff_delay(attempt, retry_after=exc.retry_after)
                        if loop.time() + delay >= job.deadline:
                            raise
                        job.retries += 1
                        self.emit(RetryScheduled(**job.event_fields(), attempt=attempt, reason=exc.code,
                                                 delay_s=delay))
                        job.progress("retrying", {"attempt": attempt, "reason": exc.code, "delay_s": delay})
                        await self._sleep(delay)
        except TimeoutError:
            msg = f"{job.spec.provider} did not answer within {limits.timeout_s:g} s ({attempt} attempt(s))"
            raise Timeout(msg, provider=job.spec.provider) from None

    def _provider_call(self, job: _Job, n: int, attempt: int, max_bytes: int,
                       headers: dict[str, str]) -> ProviderCall:
        provider_name = job.spec.provider

        async def fetch(url: str) -> bytes:
            """Outputs are fetched after the upstream was paid: a failed download is retried here,
            because retrying the whole call would pay again."""
            from urllib.parse import urlsplit

            own_base_url = self.settings.providers.get(provider_name, {}).get("base_url")
            tries = 0
            while True:
                tries += 1
                step = Step("download", {"provider": provider_name, "model": job.spec.id,
                                         "host": urlsplit(url).hostname, "attempt": tries})
                try:
                    return await self.wrapped(step, lambda: download(
                        self.session, url, max_bytes=max_bytes, provider=provider_name,
                        headers=step.outbound_headers or None, private_ok=own_base_url))
                except UpstreamError as exc:
                    if not exc.retryable:
                        raise
                    if tries == DOWNLOAD_ATTEMPTS:
                        msg = (f"{exc.message} ({DOWNLOAD_ATTEMPTS} attempts); the {provider_name} call was "
                               "paid for, so the gateway does not repeat it")
                        raise UpstreamError(msg, provider=provider_name, retryable=False) from None
                    await self._sleep(backoff_delay(tries, base=0.5))

        return ProviderCall(
            operation=job.operation, model=job.spec, prompt=job.valid.prompt, size=job.valid.size, n=n,
            params=job.valid.params, images=job.images, mask=job.mask, request_id=job.request_id,
            attempt=attempt, deadline=job.deadline, session=self.session, download=fetch,
            progress=job.progress, settings=self.settings, stream=job.stream, headers=headers,
            keep_base64=job.keep_base64, markup=job.markup)

    async def _attempt(self, provider: Provider, call: ProviderCall) -> ProviderResult:
        import aiohttp

        try:
            with body_limit(int(self.provider_settings(provider.name).max_download_mb * 2**20)):
                result = await provider.run(call)
        except ImagegateError as exc:
            exc.provider = exc.provider or provider.name
            raise
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError) as exc:
            msg = f"connection to {provider.name} failed: {type(exc).__name__}"
            raise UpstreamError(msg, provider=provider.name) from None
        except TimeoutError:
            msg = f"{provider.name} stopped sending data (read timeout)"
            raise UpstreamError(msg, provider=provider.name) from None
        except Exception as exc:
            log.exception("provider %s raised an unexpected %s", provider.name, type(exc).__name__)
            msg = f"the {provider.name} provider failed unexpectedly ({type(exc).__name__})"
            raise InternalError(msg, provider=provider.name) from None
        if not result.images:
            msg = f"{provider.name} answered without any image"
            raise UpstreamError(msg, provider=provider.name)
        return result

    # storing -----------------------------------------------------------------------------------

    async def _store_all(self, job: _Job, results: list[ProviderResult]) -> ImageResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        expected_format = job.spec.output_format(job.valid.params)
        usage = _sum_usage(results)
        actual = _sum_actual(job.spec, results, usage)
        job.paid = Cost(job.estimated_usd, actual)
        outs: list[ImageOut] = []
        spooled: list[str] = []
        held: list[str] = []  # ids readable afterwards, from storage or from the spool
        first_error: StorageError | None = None
        if not job.keep_base64:
            for result in results:
                result.images = [replace(image, b64=None) if image.b64 is not None else image
                                 for image in result.images]
        for result in results:
            for image in result.images:
                info = self._verify(job, image, expected_format)
                out, spool_path, error = await self._store_one(job, result, image, info, actual)
                outs.append(out)
                if spool_path:
                    spooled.append(spool_path)
                if error is None or spool_path:
                    held.append(out.id)
                first_error = first_error or error
        job.timings["store_ms"] = round((loop.time() - started) * 1000, 3)
        if first_error is not None:
            where = spooled[0] if spooled else None
            kept = f"; kept at {where}, reachable by id: {', '.join(held)}" if where else ""
            msg = f"storing the image failed: {first_error.message}{kept}"
            raise StorageError(msg, spool_path=where, provider=job.spec.provider, image_ids=held if where else None)
        revised = next((image.revised_prompt for r in results for image in r.images if image.revised_prompt), None)
        notes = job.lifecycle.notes()
        if len(results) > 1:
            notes.append(f"{job.spec.id} makes one image per call; the gateway made {len(results)} calls")
        return ImageResult(
            images=outs, model=job.spec.id, provider=job.spec.provider, request_id=job.request_id,
            cost=Cost(job.estimated_usd, actual), revised_prompt=revised,
            parameters=job.parameters, usage=usage, timings=job.timings, notes=notes,
            **job.lifecycle.result_fields())

    def _verify(self, job: _Job, image: ProviderImage, expected_format: str) -> Any:
        declared = image.mime_type or FORMAT_MIME.get(expected_format)
        try:
            return inspect_image(image.data, declared)
        except NotAnImage as exc:
            msg = f"{job.spec.provider} returned unusable image data: {exc}"
            raise UpstreamError(msg, provider=job.spec.provider, retryable=False) from None

    async def _store_one(self, job: _Job, result: ProviderResult, image: ProviderImage, info: Any,
                         actual: float | None) -> tuple[ImageOut, str | None, StorageError | None]:
        image_id = new_image_id()
        # a backend that hashes while it writes saves a thread hop; otherwise hash now
        hashes_itself = getattr(self.storage, "computes_sha256", False)
        digest = None if hashes_itself else await _sha256(info.data)
        metadata = {
            "id": image_id, "extension": info.extension, "mime_type": info.mime_type, "bytes": len(info.data),
            "sha256": digest, "width": info.width, "height": info.height,
            "created": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "prompt": job.valid.prompt, "revised_prompt": image.revised_prompt, "model": job.spec.id,
            "provider": job.spec.provider, "operation": job.operation,
            "parameters": job.parameters, "seed": image.seed,
            "timings": dict(job.timings),
            "cost": {"estimated_usd": job.estimated_usd, "actual_usd": actual},
            "request_id": job.request_id, "provider_request_id": result.provider_request_id,
            "model_version": result.model_version, "frontend": job.frontend,
        }
        step = Step("storage_write", {"provider": job.spec.provider, "model": job.spec.id,
                                      "backend": self.storage.name, "bytes": len(info.data),
                                      "image_id": image_id})
        spool_path = None
        error = None
        path: str | None
        try:
            path = await self.wrapped(step, lambda: self.storage.save(image_id, info.data, metadata))
            url = await self.storage.url(image_id, self.settings.gateway.url_ttl_s)
        except Exception as exc:
            error = exc if isinstance(exc, StorageError) else StorageError(f"{type(exc).__name__}: {exc}")
            log.error("storage %s failed for %s: %s; spooling", self.storage.name, image_id,
                      self.redactor.text(error.message))
            path, url, spool_path = await self._spool(image_id, info, metadata)
        else:
            self.emit(ImageStored(**job.event_fields(), image_id=image_id, bytes=len(info.data),
                                  mime_type=info.mime_type))
        digest = metadata["sha256"] or await _sha256(info.data)
        out = ImageOut(id=image_id, mime_type=info.mime_type, bytes=len(info.data), sha256=digest,
                       width=info.width, height=info.height, path=path, url=url,
                       revised_prompt=image.revised_prompt, data=info.data,
                       b64=image.b64 if info.data is image.data else None)
        return out, spool_path, error

    async def _spool(self, image_id: str, info: Any, metadata: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        try:
            spooled = await self.spool.save(image_id, info.extension, info.data, metadata)
        except Exception:
            log.critical("image %s could be neither stored nor spooled to %s", image_id, self.spool.root)
            return None, None, None
        return str(spooled), spooled.as_uri(), str(spooled)


_INLINE_HASH_BYTES = 256 * 1024


async def _sha256(data: bytes | bytearray | memoryview) -> str:
    """The hex digest; a big image is hashed in a thread (hashlib releases the GIL)."""
    if len(data) <= _INLINE_HASH_BYTES:
        return hashlib.sha256(data).hexdigest()
    return (await asyncio.to_thread(hashlib.sha256, data)).hexdigest()


def _sum_usage(results: list[ProviderResult]) -> dict[str, int] | None:
    usages = [r.usage for r in results if r.usage is not None]
    if not usages:
        return None
    total: dict[str, int] = {}
    for usage in usages:
        for key, value in usage.as_dict().items():
            total[key] = total.get(key, 0) + value
    return total


def _sum_actual(spec: ModelSpec, results: list[ProviderResult], usage: dict[str, int] | None) -> float | None:
    reported = [r.actual_cost_usd for r in results if r.actual_cost_usd is not None]
    if reported:
        return round(sum(reported), 6)
    if usage is None:
        return None
    from .pricing import Usage

    return actual_cost(spec, Usage(**usage))


@asynccontextmanager
async def open_gateway(settings: Settings | None = None, pm: pluggy.PluginManager | None = None, *,
                       check_storage: bool = True) -> AsyncIterator[Gateway]:
    """Build a gateway from the environment and installed plugins, opened, and close it after."""
    from .plugins import make_plugin_manager

    gateway = Gateway(settings or Settings(), pm or make_plugin_manager())
    try:
        await gateway.open(check_storage=check_storage)
        yield gateway
    finally:
        await gateway.aclose()
