"""The one pipeline every front-end calls.

resolve model -> validate against its spec -> check the provider is ready -> resolve input images
-> provider call (:mod:`~imagegate.calling`: deadline, concurrency and RPM slot, retries with
back-off) -> verify the bytes and store them, spooling on failure (:mod:`~imagegate.storing`)
-> result. Each step runs inside the plugins' middlewares, and events are emitted for metrics and
logs, so front-ends and providers stay free of both. Stored images are read back through
:mod:`~imagegate.stored_images`.

Money rules: nothing is sent before validation passes; once an upstream call may have been paid
for, its images are finished and stored even if the caller goes away, and stay reachable by id.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ._callers import Caller, KeyRing
from ._calling import ProviderCaller
from ._catalog import ModelSpec, Operation
from ._errors import ImagegateError, Timeout
from ._events import Event
from ._filestore import FileStore
from ._grids import check_grid_job, prepare_grid, store_tiles
from ._ids import new_request_id
from ._inputs import InputSources
from ._job_runs import LOCAL, JobRuns
from ._jobs import Delivery, Job, build_job, failed_event, quote
from ._lifecycle import apply_lifecycle, choose_default_model
from ._middleware import Middleware, Step, run_wrapped
from ._models import ImageRequest, ImageResult
from ._paid_work import PaidWork
from ._plugins import await_each, call_each
from ._provider import Progress
from ._redact import Redactor
from ._registry import ProviderRegistry, StorageRegistry
from ._sessions import Sessions
from ._settings import ProviderSettings, Settings
from ._stored_images import StoredImages
from ._storing import ImageStorer
from ._webhooks import Webhooks

if TYPE_CHECKING:
    import pluggy

    from ._job_runs import JobHooks
    from ._storage import Storage

__all__ = ["Gateway", "open_gateway"]

T = TypeVar("T")


def _stored(name: str) -> Any:
    """A gateway attribute that is the same-named method of its :class:`StoredImages`."""
    return property(lambda gateway: getattr(gateway.images, name), doc=getattr(StoredImages, name).__doc__)


class Gateway:
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
        self.storage: Storage = storages.create(settings)
        self.spool = FileStore(settings.storage.resolved_spool_dir())
        self.redactor = Redactor.from_settings(settings)
        self.images = StoredImages(self.storage, self.spool, settings.gateway)
        self.middlewares: list[Middleware] = [
            m for m in (*pm.hook.step_middleware(gateway=self), *pm.hook.provider_call_wrapper(gateway=self)) if m]
        sleep = asyncio.sleep if sleep is None else sleep
        self.caller = ProviderCaller(session=lambda: self.session, run_step=self.wrapped, emit=self.emit, sleep=sleep,
                                     make_limiter=lambda provider, max_concurrency, rpm: pm.hook.provider_limiter(
                                         gateway=self, provider=provider, max_concurrency=max_concurrency, rpm=rpm))
        self.storer = ImageStorer(self.storage, self.spool, url_ttl_s=settings.gateway.url_ttl_s,
                                  redactor=self.redactor, run_step=self.wrapped, emit=self.emit)
        self.inputs = InputSources(settings.input, self.images.read, lambda: self.input_session)
        self.sessions = Sessions()
        self._provider_settings: dict[str, ProviderSettings] = {}
        self.paid_work = PaidWork()
        self.jobs = JobRuns(self)
        self.keys = KeyRing(self.jobs.key_store, self.emit)
        self.webhooks = Webhooks(self, sleep=sleep)
        self.jobs.on_end(self.webhooks.job_ended)

    # lifecycle ---------------------------------------------------------------------------------

    async def open(self, *, check_storage: bool = True, take_over: bool = True) -> Gateway:
        """Check storage is writable (unless told not to: reading works from the spool while the
        backend is down), run the plugins' start-up hooks, and (``take_over``) run the jobs a dead
        process left (see :meth:`~imagegate._job_runs.JobRuns.open`)."""
        if check_storage:
            await self.storage.check_writable()
        for result in self.pm.hook.startup(gateway=self):
            if inspect.isawaitable(result):
                await result
        await self.jobs.open(take_over=take_over)
        return self

    async def aclose(self) -> None:
        """Finish paid-for work still running in the background, then close everything."""
        await self.jobs.aclose()
        await self.webhooks.aclose()
        await self.settle()
        await await_each(self.pm, "shutdown", gateway=self)
        for provider in self.registry.providers.values():
            await provider.aclose()
        await self.storage.aclose()
        await self.sessions.aclose()

    async def settle(self) -> None:
        """Wait for paid-for work that callers abandoned to be finished and stored."""
        await self.paid_work.settle()

    session = property(lambda self: self.sessions.upstream, doc="The shared outbound HTTP session (made on first use).")
    input_session = property(lambda self: self.sessions.public,
                             doc="The session that fetches URLs users name: public addresses only, no redirects.")

    # catalog -----------------------------------------------------------------------------------

    def models(self) -> list[ModelSpec]:
        return sorted(self.registry.models.values(), key=lambda spec: (spec.provider, spec.id))

    @property
    def default_model(self) -> str:
        """The model a request without one gets (``GATEWAY__DEFAULT_MODEL`` or the chosen default)."""
        return choose_default_model(self.settings.gateway.default_model, self.registry)

    async def resolve_model(self, name: str | None) -> ModelSpec:
        """The spec for a short id, qualified id or alias; providers may resolve others."""
        return await self.registry.resolve(name or self.default_model, self.session)

    def provider_settings(self, name: str) -> ProviderSettings:
        """The validated ``providers.<name>`` section (validated once, then kept)."""
        if name not in self._provider_settings:
            self._provider_settings[name] = self.settings.provider(name)
        return self._provider_settings[name]

    # events and middleware ---------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Hand an event to every ``track_event`` implementation; a failing one is only logged."""
        call_each(self.pm, "track_event", gateway=self, event=event)

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
        request, _ = prepare_grid(operation, request, self.settings.gateway.grid_prompt_template)
        return quote(self, spec, operation, request)

    async def run(self, operation: Operation, request: ImageRequest, *, owner: str | None = None,
                  idempotency_key: str | None = None, digest: str | None = None, **kwargs: Any) -> ImageResult:
        """Serve one request as a recorded job (see :mod:`~imagegate._job_runs`); ``owner`` (by
        default the ``caller``'s) scopes ``idempotency_key``, and ``digest`` tells a repeat from a
        different request."""
        caller: Caller | None = kwargs.get("caller")
        return await self.jobs.run(operation, request, owner=owner or (caller.owner if caller else LOCAL),
                                   idempotency_key=idempotency_key, digest=digest, **kwargs)

    async def serve(self, operation: Operation, request: ImageRequest, *, frontend: str = "api",
                  progress: Progress | None = None, trusted_paths: bool = False,
                  carrier: dict[str, str] | None = None, keep_base64: bool = False,
                  job_hooks: JobHooks | None = None, caller: Caller | None = None) -> ImageResult:
        """Serve one request end to end; raise :class:`~imagegate._errors.ImagegateError`.

        The keyword arguments are the front-end's delivery choices (see :class:`~imagegate._jobs.Delivery`).
        """
        delivery = Delivery(frontend=frontend, progress=progress, trusted_paths=trusted_paths,
                            carrier=dict(carrier or {}), keep_base64=keep_base64, job_hooks=job_hooks,
                            caller=caller)
        request_id = new_request_id()
        step = Step("request", {"frontend": frontend, "operation": operation, "request_id": request_id,
                                "model": request.model or self.default_model},
                    carrier=delivery.carrier)
        return await self.wrapped(step, lambda: self._serve(operation, request, request_id, delivery))

    async def _serve(self, operation: Operation, request: ImageRequest, request_id: str,
                     delivery: Delivery) -> ImageResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        job: Job | None = None
        try:
            spec = await self.resolve_model(request.model)  # once per request: the job carries it
            request, grid = prepare_grid(operation, request, self.settings.gateway.grid_prompt_template)
            spec, request, lifecycle = apply_lifecycle(self, spec, operation, request, request_id=request_id,
                                                       frontend=delivery.frontend)
            job = await build_job(operation, request, request_id, delivery, spec=spec, inputs=self.inputs,
                                  lifecycle=lifecycle,
                                  provider=self.registry.providers.get(spec.provider),
                                  provider_settings=self.provider_settings)
            if grid is not None:
                job.grid = grid
                check_grid_job(job)
            self.emit(job.started_event())
            if job.provider.cancellable:  # the caller going away cancels the upstream call
                result = await self._call_and_store(job)
            else:  # paid for once attempted: one task, finished in the background if the caller goes away
                result = await self.paid_work.finish(asyncio.ensure_future(self._call_and_store(job)),
                                                     paying=lambda: job.attempted)
        except (ImagegateError, asyncio.CancelledError) as exc:
            error = exc if isinstance(exc, ImagegateError) else Timeout("the caller went away")
            # an upstream may echo a key in its error text: no configured secret leaves the gateway
            error.message = self.redactor.text(error.message)
            error.args = (error.message,)
            self.emit(failed_event(job, error, loop.time() - started, request_id=request_id, operation=operation,
                                   frontend=delivery.frontend,
                                   model=request.model or self.default_model))
            raise
        result.timings["total_ms"] = round((loop.time() - started) * 1000, 3)
        self.emit(job.finished_event(result, loop.time() - started))
        return result

    async def _call_and_store(self, job: Job) -> ImageResult:
        async with self.keys.spending(job):  # a virtual key's models, rate and budget
            started = asyncio.get_running_loop().time()
            results = await self.caller.call(job)
            job.timings["upstream_ms"] = round((asyncio.get_running_loop().time() - started) * 1000, 3)
            if not job.provider.cancellable:  # this whole call already runs shielded (see _serve)
                return await self._store(job, results)
            store = asyncio.ensure_future(self._store(job, results))  # the upstream was paid: store anyway
            return await self.paid_work.finish(store)

    async def _store(self, job: Job, results: list[Any]) -> ImageResult:
        stored = await self.storer.store_all(job, results)
        if job.grid is None:
            return stored
        return await store_tiles(self.storer, job, results, stored, job.grid)

    # stored images: read, link, list, delete, transform and drain through :class:`~imagegate._stored_images.StoredImages`

    metadata = _stored("metadata")
    read = _stored("read")
    url = _stored("url")
    file_signer = _stored("file_signer")
    local_path = _stored("local_path")
    describe = _stored("describe")
    list = _stored("list")
    delete = _stored("delete")
    drain_spool = _stored("drain_spool")
    transform = _stored("transform")
    thumbnail = _stored("thumbnail")


@asynccontextmanager
async def open_gateway(settings: Settings | None = None, pm: pluggy.PluginManager | None = None, *,
                       check_storage: bool = True, take_over: bool = True) -> AsyncIterator[Gateway]:
    """Build a gateway from the environment and installed plugins, opened, and close it after."""
    from ._plugins import make_plugin_manager

    gateway = Gateway(settings or Settings(), pm or make_plugin_manager())
    try:
        await gateway.open(check_storage=check_storage, take_over=take_over)
        yield gateway
    finally:
        await gateway.aclose()
