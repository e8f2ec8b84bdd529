"""Per-gateway telemetry: the middleware that traces and times each step, and the event listener.

The gateway runs :meth:`Telemetry.middleware` around every ``request``, ``provider_attempt``,
``download`` and ``storage_write`` step, and hands every event to :meth:`Telemetry.on_event`.
A request's span, its metrics and its one log line are completed when its ``request`` step ends,
from the step's attributes plus what the events of that request reported meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import ObservabilitySettings
from .metrics import Metrics
from imagegate.frontend import Redactor

if TYPE_CHECKING:
    from imagegate import Event, Gateway, RequestFailed, RequestFinished, Step
    from opentelemetry.trace import Span, Tracer

__all__ = ["ATTRIBUTE", "RequestRecord", "Telemetry", "outcome_of", "telemetry_for"]

ATTRIBUTE = "_imagegate_observability"
"""Name of the gateway attribute holding its :class:`Telemetry`."""

OTHER_MODEL = "other"
"""Model label for requests naming a model the catalog does not know (bounds label cardinality)."""

_STEP_FAILURE_CODE = {"storage_write": "storage_error", "download": "upstream_error"}


def outcome_of(kind: str, exc: BaseException) -> str:
    """``success`` is never returned here: the error code a failed step ends with."""
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return _STEP_FAILURE_CODE.get(kind, "internal")


@dataclass(slots=True)
class RequestRecord:
    """What is learnt about one request while it runs (from its step and its events)."""

    request_id: str
    frontend: str
    span: Span
    started: float
    parameters: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    retries: int = 0
    images: int = 0
    bytes: int = 0
    cost_usd: float | None = None
    provider: str | None = None
    model: str | None = None
    error: dict[str, Any] | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    """Provider, model, n and size once the gateway resolved the model (from ``RequestStarted``)."""


class Telemetry:
    """Tracing, metrics and request logs for one gateway."""

    def __init__(self, gateway: Gateway, *, tracer_provider: Any = None, metrics: Metrics | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        from .logs import install_handler

        settings = gateway.settings
        self.config = settings.section("observability", ObservabilitySettings)
        self.log_prompts = settings.logging.log_prompts
        self.metrics = metrics if metrics is not None else Metrics()
        self.redactor = Redactor.from_settings(settings, environ)
        self.logger: logging.Logger | None = install_handler() if self.config.log_requests else None
        self.metrics_server: Any = None
        self._environ = os.environ if environ is None else environ
        self._tracer_provider = tracer_provider
        self._owns_provider = False
        self._tracer: Tracer | None = None
        self._find_model = gateway.registry.find
        self._live: dict[str, RequestRecord] = {}

    @property
    def tracer(self) -> Tracer:
        """Built on first use, so importing or registering the plugin configures nothing."""
        if self._tracer is None:
            from opentelemetry import trace

            from .export import tracer_provider_for

            if self._tracer_provider is None:
                self._tracer_provider = tracer_provider_for(self._environ)
                self._owns_provider = self._tracer_provider is not trace.get_tracer_provider()
            self._tracer = self._tracer_provider.get_tracer("imagegate_observability")
        return self._tracer

    @property
    def tracer_provider(self) -> Any:
        self.tracer  # noqa: B018 - builds the provider on first use
        return self._tracer_provider

    # the middleware ------------------------------------------------------------------------------

    async def middleware(self, step: Step, call_next: Callable[[], Awaitable[Any]]) -> Any:
        """Trace and time one step; never changes its result or its exception."""
        if step.kind == "request":
            return await self._request(step, call_next)
        return await self._inner_step(step, call_next)

    async def _request(self, step: Step, call_next: Callable[[], Awaitable[Any]]) -> Any:
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind

        attributes = step.attributes
        frontend = str(attributes.get("frontend") or "api")
        parent = propagate.extract({str(key).lower(): value for key, value in step.carrier.items()})
        in_flight = self.metrics.child(self.metrics.in_flight, frontend)
        in_flight.inc()
        with self.tracer.start_as_current_span(
                "imagegate.request", context=parent, kind=SpanKind.SERVER,
                record_exception=False, set_status_on_exception=False) as span:
            record = RequestRecord(request_id=str(attributes.get("request_id", "")), frontend=frontend,
                                   span=span, started=time.perf_counter())
            self._live[record.request_id] = record
            failure: BaseException | None = None
            try:
                return await call_next()
            except BaseException as exc:
                failure = exc
                raise
            finally:
                in_flight.dec()
                self._live.pop(record.request_id, None)
                self._finish_request(step, record, failure)

    async def _inner_step(self, step: Step, call_next: Callable[[], Awaitable[Any]]) -> Any:
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind

        upstream = step.kind in ("provider_attempt", "download")
        with self.tracer.start_as_current_span(
                f"imagegate.{step.kind}", kind=SpanKind.CLIENT if upstream else SpanKind.INTERNAL,
                attributes=self._span_attributes(step.attributes),
                record_exception=False, set_status_on_exception=False) as span:
            if upstream:
                propagate.inject(step.outbound_headers)
            started = time.perf_counter()
            try:
                result = await call_next()
            except BaseException as exc:
                self._mark_failed(span, outcome_of(step.kind, exc), exc)
                raise
            else:
                span.set_attribute("imagegate.outcome", "success")
                if step.kind == "download" and isinstance(result, bytes | bytearray | memoryview):
                    span.set_attribute("imagegate.bytes", len(result))
                return result
            finally:
                if step.kind == "provider_attempt":
                    self.metrics.child(
                        self.metrics.upstream_duration, str(step.attributes.get("provider")),
                        str(step.attributes.get("model")),
                    ).observe(time.perf_counter() - started)

    # events --------------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Count what events report and remember it for the request's span and log line."""
        from imagegate import (
            DeprecatedModelRequested,
            ImageDeleted,
            ImageStored,
            KeySpent,
            RequestFailed,
            RequestFinished,
            RequestStarted,
            RetryScheduled,
        )

        if isinstance(event, ImageDeleted):
            self.metrics.child(self.metrics.deleted, event.reason).inc()
            self.metrics.child(self.metrics.deleted_bytes, event.reason).inc(event.bytes)
            return
        if isinstance(event, KeySpent):
            self.metrics.child(self.metrics.key_spend, event.key).inc(event.usd)
            return
        record = self._live.get(event.request_id)
        if record is not None:
            record.provider, record.model = event.provider, event.model
        if isinstance(event, RetryScheduled):
            self.metrics.child(self.metrics.retries, event.provider, event.model, event.reason).inc()
            if record is not None:
                record.retries += 1
                record.span.add_event("imagegate.retry_scheduled", {
                    "imagegate.attempt": event.attempt, "imagegate.reason": event.reason,
                    "imagegate.delay_s": event.delay_s})
        elif isinstance(event, ImageStored):
            self.metrics.child(self.metrics.images, event.provider, event.model).inc()
            self.metrics.child(self.metrics.image_bytes, event.provider, event.model).inc(event.bytes)
            if record is not None:
                record.images += 1
                record.bytes += event.bytes
        elif isinstance(event, RequestFinished):
            self._count_cost(event, record)
            if record is not None:
                record.images, record.bytes, record.retries = event.images, event.bytes, event.retries
        elif isinstance(event, RequestFailed):
            if event.estimated_usd is not None or event.actual_usd is not None:
                self._count_cost(event, record)  # paid for, then lost to e.g. storage: still spent
            if record is not None:
                record.retries = event.retries
                record.error = {"code": event.code, "message": self.redactor.text(event.message),
                                "retryable": event.retryable}
        elif isinstance(event, DeprecatedModelRequested):
            self.metrics.child(self.metrics.deprecated, event.provider, event.model).inc()
        elif isinstance(event, RequestStarted) and record is not None:
            record.resolved = {"provider": event.provider, "model": event.model, "n": event.n, "size": event.size}
            record.parameters = self.redactor.value(event.parameters)
            record.prompt = self.redactor.text(event.prompt) if self.log_prompts and event.prompt else None

    def _count_cost(self, event: RequestFinished | RequestFailed, record: RequestRecord | None) -> None:
        cost = event.actual_usd if event.actual_usd is not None else event.estimated_usd
        self.metrics.child(self.metrics.cost, event.provider, event.model, event.operation).inc(max(cost or 0.0, 0.0))
        if record is not None:
            record.cost_usd = cost

    # finishing a request -------------------------------------------------------------------------

    def _finish_request(self, step: Step, record: RequestRecord, failure: BaseException | None) -> None:
        attributes = {**step.attributes, **record.resolved}
        operation = str(attributes.get("operation"))
        provider, model = self._labels(attributes, record)
        if failure is None:
            outcome = "success"
        elif record.error is not None:
            outcome = record.error["code"]
        else:
            outcome = outcome_of("request", failure)
            message = getattr(failure, "message", None) or type(failure).__name__
            record.error = {"code": outcome, "message": self.redactor.text(str(message)),
                            "retryable": bool(getattr(failure, "retryable", False))}
        duration = time.perf_counter() - record.started
        labels = (record.frontend, provider, model, operation)
        self.metrics.child(self.metrics.requests, *labels, outcome).inc()
        self.metrics.child(self.metrics.request_duration, *labels).observe(duration)
        span = record.span
        span.set_attributes(self._span_attributes({
            **attributes, "provider": provider, "model": model, "outcome": outcome, "retries": record.retries,
            "images": record.images, "bytes": record.bytes, "cost_usd": record.cost_usd}))
        if record.error is not None:
            self._mark_failed(span, outcome, failure, message=record.error["message"])
        self._log(record, attributes, provider, model, operation, outcome, duration)

    def _labels(self, attributes: dict[str, Any], record: RequestRecord) -> tuple[str, str]:
        """Provider and model labels; a model the catalog does not know becomes ``other``.

        ``provider`` is known once the gateway resolved the model (``RequestStarted``); before that
        (e.g. a request naming an unknown model) the raw name must not become a label value.
        """
        if "provider" in attributes:
            return str(attributes["provider"]), str(attributes.get("model"))
        spec = self._find_model(str(record.model or attributes.get("model")))
        if spec is None:
            return record.provider or "unknown", OTHER_MODEL
        return spec.provider, spec.id

    def _log(self, record: RequestRecord, attributes: dict[str, Any], provider: str, model: str,
             operation: str, outcome: str, duration: float) -> None:
        if self.logger is None:
            return
        context = record.span.get_span_context()
        text, value = self.redactor.text, self.redactor.value
        # parameters and prompt were scrubbed when recorded; the rest is scrubbed here
        event: dict[str, Any] = {
            "event": "request",
            "trace_id": format(context.trace_id, "032x") if context.trace_id else None,
            "span_id": format(context.span_id, "016x") if context.span_id else None,
            "request_id": text(record.request_id),
            "frontend": text(record.frontend),
            "provider": text(provider),
            "model": text(model),
            "operation": text(operation),
            "size": value(attributes.get("size")),
            "n": value(attributes.get("n")),
            "parameters": record.parameters,
            "outcome": text(outcome),
            "error": None if record.error is None else value(record.error),
            "retries": record.retries,
            "images": record.images,
            "bytes": record.bytes,
            "cost_usd": record.cost_usd,
            "duration_ms": round(duration * 1000, 3),
        }
        if record.prompt is not None:
            event["prompt"] = record.prompt
        from .logs import emit

        level = logging.INFO if outcome == "success" else logging.WARNING
        message = "request served" if outcome == "success" else f"request failed: {outcome}"
        emit(self.logger, level, message, event)

    # span helpers --------------------------------------------------------------------------------

    def _span_attributes(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Step attributes as ``imagegate.*`` span attributes (scalars only, scrubbed, no None)."""
        out: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            name = "server.address" if key == "host" else f"imagegate.{key}"
            if isinstance(value, bool | int | float):
                out[name] = value
            elif isinstance(value, str):
                out[name] = self.redactor.text(value)
        return out

    def _mark_failed(self, span: Span, code: str, exc: BaseException | None, *, message: str | None = None) -> None:
        """Error status and an ``exception`` event carrying only the scrubbed message (no traceback)."""
        from opentelemetry.trace import Status, StatusCode

        if message is None:
            raw = getattr(exc, "message", None) or (str(exc) if exc is not None else code) or code
            message = self.redactor.text(str(raw))
        span.set_attribute("imagegate.outcome", code)
        span.set_attribute("error.type", code)
        span.set_status(Status(StatusCode.ERROR, message))
        span.add_event("exception", {"exception.type": type(exc).__name__ if exc is not None else code,
                                     "exception.message": message})

    # lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the metrics port if one was started; export pending spans, and shut down the
        tracer provider when this telemetry built it (an injected or global one is only flushed)."""
        from .server import stop_metrics_server

        if self.metrics_server is not None:
            stop_metrics_server(self.metrics_server)
            self.metrics_server = None
        provider = self._tracer_provider
        if self._owns_provider and hasattr(provider, "shutdown"):
            provider.shutdown()
            self._owns_provider = False
        elif hasattr(provider, "force_flush"):
            provider.force_flush()


def telemetry_for(gateway: Gateway, factory: Callable[[Gateway], Telemetry] | None = None) -> Telemetry:
    """The gateway's telemetry, created on first use (by ``factory`` when given)."""
    state = vars(gateway)
    if ATTRIBUTE not in state:
        state[ATTRIBUTE] = (factory or Telemetry)(gateway)
    telemetry: Telemetry = state[ATTRIBUTE]
    return telemetry
