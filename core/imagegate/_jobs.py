"""One request as it moves through the pipeline, and how its caller wants it delivered.

A :class:`Job` is built once per request by :func:`build_job`, after the model is resolved and the
request validated: the spec, provider, provider settings and delivery choices are fixed there and
read by every stage; the request's events are made from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._catalog import validate_request
from ._errors import InvalidRequest, NotFound
from ._events import RequestFailed, RequestFinished, RequestStarted
from ._inputs import resolve_input
from ._lifecycle import Lifecycle, apply_lifecycle
from ._pricing import estimate_cost

if TYPE_CHECKING:
    from ._callers import Caller
    from ._catalog import ModelSpec, Operation, ValidRequest
    from ._errors import ImagegateError
    from ._gateway import Gateway
    from ._grids import Grid
    from ._inputs import InputSources
    from ._job_runs import JobHooks
    from ._models import Cost, ImageRequest, ImageResult
    from ._provider import InputImage, Progress, Provider
    from ._settings import ProviderSettings

__all__ = ["Delivery", "Job", "build_job", "failed_event", "quote", "stored_parents", "validate"]


def validate(spec: ModelSpec, operation: Operation, request: ImageRequest) -> ValidRequest:
    """Check a request against the model's spec (:func:`~imagegate._catalog.validate_request`)."""
    return validate_request(
        spec, operation, prompt=request.prompt, size=request.size, n=request.n, params=request.params,
        image_count=len(request.images), has_mask=request.mask is not None,
        has_markup=request.markup is not None)


def _no_progress(message: str, data: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the front-end decided about its caller, fixed when the request arrives.

    ``frontend`` names the caller (cli, http, mcp) for metrics; ``progress`` receives status
    changes; ``trusted_paths`` lets the CLI read any path its user names; ``carrier`` is the
    inbound request's headers (trace context); with ``keep_base64`` (a front-end answering base64)
    images keep the provider's canonical base64, which is otherwise let go before storing.
    """

    frontend: str = "api"
    progress: Progress | None = None
    trusted_paths: bool = False
    carrier: dict[str, str] = field(default_factory=dict)
    keep_base64: bool = False
    job_hooks: JobHooks | None = None
    """The recorded job's hooks: told when the first attempt starts and of resumable upstream work."""
    caller: Caller | None = None
    """Who asked (see :mod:`~imagegate._callers`): a virtual key is held to its models, rate and budget."""


@dataclass(slots=True)
class Job:
    """One validated request with everything the stages need to serve it."""

    request_id: str
    operation: Operation
    spec: ModelSpec
    provider: Provider
    limits: ProviderSettings
    valid: ValidRequest
    images: list[InputImage]
    mask: InputImage | None
    deadline: float
    estimated_usd: float | None
    parameters: dict[str, Any]
    delivery: Delivery
    stream: bool = False
    retries: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    attempted: bool = False
    """Set as the first upstream attempt starts (its provider slot taken): money may be spent from then on."""
    paid: Cost | None = None
    """Set once the provider has answered: what was spent, whatever happens next."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    """What the model's lifecycle changed or says (translation, deprecation)."""
    markup: InputImage | None = None
    parent_ids: list[str] = field(default_factory=list)
    """Input images given by stored id: the lineage recorded in each result's metadata."""
    grid: Grid | None = None
    """The layout asked for: the stored image is also cut into tiles."""

    @property
    def progress(self) -> Progress:
        return self.delivery.progress or _no_progress

    def event_fields(self) -> dict[str, str]:
        return {
            "request_id": self.request_id,
            "frontend": self.delivery.frontend,
            "provider": self.spec.provider,
            "model": self.spec.id,
            "operation": self.operation,
        }

    def started_event(self) -> RequestStarted:
        return RequestStarted(**self.event_fields(), parameters=self.valid.params, prompt=self.valid.prompt,
                              n=self.valid.n, size=self.valid.size)

    def finished_event(self, result: ImageResult, duration_s: float) -> RequestFinished:
        return RequestFinished(
            **self.event_fields(), duration_s=duration_s, images=len(result.images),
            bytes=sum(image.bytes for image in result.images), estimated_usd=result.cost.estimated_usd,
            actual_usd=result.cost.actual_usd, retries=self.retries)


def failed_event(job: Job | None, error: ImagegateError, duration_s: float, *, request_id: str, frontend: str,
                 model: str, operation: Operation) -> RequestFailed:
    """The event for a failed request; without a job (it failed before one was built) the fields
    are what the caller asked for, and nothing was paid."""
    fields = job.event_fields() if job else {
        "request_id": request_id, "frontend": frontend, "provider": error.provider or "unknown",
        "model": model, "operation": operation}
    paid = job.paid if job else None
    return RequestFailed(
        **fields, duration_s=duration_s, code=error.code, retryable=error.retryable, message=error.message,
        retries=job.retries if job else 0, estimated_usd=paid.estimated_usd if paid else None,
        actual_usd=paid.actual_usd if paid else None)


def quote(gateway: Gateway, spec: ModelSpec, operation: Operation, request: ImageRequest) -> dict[str, Any]:
    """What a request would cost, without making it (``--dry-run``); validation still applies."""
    from ._models import Cost

    spec, request, lifecycle = apply_lifecycle(gateway, spec, operation, request)
    valid = validate(spec, operation, request)
    return {"model": spec.id, "provider": spec.provider, "operation": operation,
            "parameters": valid.effective(spec), "dry_run": True,
            "cost": Cost(estimate_cost(spec, valid, len(request.images)), unofficial=spec.pricing.unofficial).as_dict(),
            **{k: v for k, v in lifecycle.result_fields().items() if v}}


async def build_job(operation: Operation, request: ImageRequest, request_id: str, delivery: Delivery, *,
                    spec: ModelSpec, provider: Provider | None,
                    provider_settings: Callable[[str], ProviderSettings], inputs: InputSources,
                    lifecycle: Lifecycle | None = None) -> Job:
    """Validate against the resolved model, check its provider is installed and ready, and resolve
    the input images: everything that can fail before money is spent."""
    valid = validate(spec, operation, request)
    if provider is None:
        msg = f"model {spec.id} needs the {spec.provider!r} provider plugin, which is not installed"
        raise NotFound(msg, param="model", provider=spec.provider)
    if request.stream and not spec.streaming:
        msg = f"{spec.id} does not stream partial images; send stream=false"
        raise InvalidRequest(msg, param="stream")
    provider.check_ready(spec)
    trusted = delivery.trusted_paths
    images = [await resolve_input(inputs, ref, spec, param="image", trusted_paths=trusted) for ref in request.images]
    mask = None if request.mask is None else await resolve_input(
        inputs, request.mask, spec, param="mask", trusted_paths=trusted)
    markup = None if request.markup is None else await resolve_input(
        inputs, request.markup, spec, param="markup", trusted_paths=trusted)
    limits = provider_settings(spec.provider)
    return Job(request_id=request_id, operation=operation, spec=spec, provider=provider, limits=limits,
               valid=valid, images=images, mask=mask, deadline=asyncio.get_running_loop().time() + limits.timeout_s,
               estimated_usd=estimate_cost(spec, valid, len(images)), parameters=valid.effective(spec),
               delivery=delivery, stream=request.stream, lifecycle=lifecycle or Lifecycle(), markup=markup,
               parent_ids=stored_parents(request))


def stored_parents(request: ImageRequest) -> list[str]:
    """The request's input images that are stored images, by id, each once, in the order given."""
    refs = [*request.images, request.mask, request.markup]
    ids = [str(ref.value) for ref in refs if ref is not None and ref.kind == "id"]
    return list(dict.fromkeys(ids))
