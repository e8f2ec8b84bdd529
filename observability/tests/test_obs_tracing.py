"""Span trees and attributes for a success, retried failures and a storage failure, and W3C
trace context in and out; the providers involved contain no observability code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from imagegate._errors import StorageError, UpstreamError
from imagegate._models import ImageRequest

from .support import FlakyProvider

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def by_name(finished: Any, name: str) -> list[Any]:
    return sorted((span for span in finished if span.name == name), key=lambda span: span.start_time)


def only(finished: Any, name: str) -> Any:
    found = by_name(finished, name)
    assert len(found) == 1, [span.name for span in finished]
    return found[0]


async def test_success_on_the_placeholder_gives_one_complete_trace(make_gateway: Any, spans: Any) -> None:
    gateway = await make_gateway()
    result = await gateway.run("generate", ImageRequest(prompt="a red fox", model="placeholder", size="96x64", n=2),
                               frontend="http")
    finished = spans.get_finished_spans()
    request = only(finished, "imagegate.request")
    attempt = only(finished, "imagegate.provider_attempt")
    writes = by_name(finished, "imagegate.storage_write")
    assert request.parent is None and request.kind == SpanKind.SERVER
    assert attempt.parent.span_id == request.context.span_id and attempt.kind == SpanKind.CLIENT
    assert len(writes) == 2 and all(w.parent.span_id == request.context.span_id for w in writes)
    assert {span.context.trace_id for span in finished} == {request.context.trace_id}
    attrs = dict(request.attributes)
    assert attrs == {
        "imagegate.frontend": "http", "imagegate.operation": "generate", "imagegate.model": "placeholder",
        "imagegate.provider": "placeholder", "imagegate.request_id": result.request_id, "imagegate.n": 2,
        "imagegate.size": "96x64", "imagegate.outcome": "success", "imagegate.retries": 0,
        "imagegate.images": 2, "imagegate.bytes": sum(image.bytes for image in result.images),
        "imagegate.cost_usd": 0.0,
    }
    assert request.status.status_code == StatusCode.UNSET
    assert attempt.attributes["imagegate.attempt"] == 1 and attempt.attributes["imagegate.outcome"] == "success"
    assert sorted(w.attributes["imagegate.bytes"] for w in writes) == sorted(i.bytes for i in result.images)
    assert {w.attributes["imagegate.image_id"] for w in writes} == {i.id for i in result.images}
    assert all(w.attributes["imagegate.backend"] == "local" for w in writes)


async def test_retries_are_sibling_attempt_spans_under_the_request(make_gateway: Any, spans: Any) -> None:
    provider = FlakyProvider(failures=2)
    gateway = await make_gateway(provider)
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"), frontend="mcp")
    finished = spans.get_finished_spans()
    request = only(finished, "imagegate.request")
    attempts = by_name(finished, "imagegate.provider_attempt")
    assert [a.attributes["imagegate.attempt"] for a in attempts] == [1, 2, 3]
    assert [a.attributes["imagegate.outcome"] for a in attempts] == ["upstream_error", "upstream_error", "success"]
    assert all(a.parent.span_id == request.context.span_id for a in attempts)
    assert [a.status.status_code for a in attempts] == [StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET]
    assert attempts[0].attributes["error.type"] == "upstream_error"
    assert request.attributes["imagegate.retries"] == 2
    assert request.attributes["imagegate.outcome"] == "success"
    assert request.attributes["imagegate.cost_usd"] == pytest.approx(0.04)
    retry_events = [e for e in request.events if e.name == "imagegate.retry_scheduled"]
    assert [e.attributes["imagegate.attempt"] for e in retry_events] == [1, 2]
    assert {e.attributes["imagegate.reason"] for e in retry_events} == {"upstream_error"}


async def test_a_request_that_runs_out_of_retries_fails_its_span(make_gateway: Any, spans: Any) -> None:
    gateway = await make_gateway(FlakyProvider(failures=99), max_retries=2)
    with pytest.raises(UpstreamError):
        await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"), frontend="cli")
    finished = spans.get_finished_spans()
    request = only(finished, "imagegate.request")
    attempts = by_name(finished, "imagegate.provider_attempt")
    assert len(attempts) == 3 and {a.attributes["imagegate.outcome"] for a in attempts} == {"upstream_error"}
    assert request.status.status_code == StatusCode.ERROR
    assert request.attributes["imagegate.outcome"] == "upstream_error"
    assert request.attributes["error.type"] == "upstream_error"
    assert request.attributes["imagegate.retries"] == 2
    assert request.attributes["imagegate.images"] == 0
    assert not by_name(finished, "imagegate.storage_write")
    exception = [e for e in request.events if e.name == "exception"]
    assert len(exception) == 1 and exception[0].attributes["exception.type"] == "UpstreamError"


async def test_storage_failure_marks_the_write_and_the_request(make_gateway: Any, spans: Any) -> None:
    gateway = await make_gateway(storage="failing")
    with pytest.raises(StorageError) as caught:
        await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
    assert caught.value.spool_path and Path(caught.value.spool_path).exists()
    finished = spans.get_finished_spans()
    request = only(finished, "imagegate.request")
    write = only(finished, "imagegate.storage_write")
    attempt = only(finished, "imagegate.provider_attempt")
    assert attempt.attributes["imagegate.outcome"] == "success"
    assert write.parent.span_id == request.context.span_id
    assert write.status.status_code == StatusCode.ERROR
    assert write.attributes["imagegate.outcome"] == "storage_error"
    assert write.attributes["imagegate.backend"] == "failing"
    assert write.attributes["imagegate.bytes"] == len(FlakyProvider().data)
    assert request.attributes["imagegate.outcome"] == "storage_error"
    assert request.status.status_code == StatusCode.ERROR


async def test_inbound_traceparent_parents_the_request_and_goes_upstream(
        make_gateway: Any, spans: Any, download_server: dict[str, Any]) -> None:
    provider = FlakyProvider(failures=1, download_url=download_server["url"])
    gateway = await make_gateway(provider)
    carrier = {"Traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "Content-Type": "application/json"}
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"), frontend="http", carrier=carrier)
    finished = spans.get_finished_spans()
    request = only(finished, "imagegate.request")
    assert format(request.context.trace_id, "032x") == TRACE_ID
    assert request.parent is not None and request.parent.is_remote
    assert format(request.parent.span_id, "016x") == PARENT_ID
    attempts = by_name(finished, "imagegate.provider_attempt")
    assert len(attempts) == 2
    for headers, attempt in zip(provider.headers_seen, attempts, strict=True):
        assert headers["traceparent"] == f"00-{TRACE_ID}-{format(attempt.context.span_id, '016x')}-01"
    download = only(finished, "imagegate.download")
    assert download.parent.span_id == attempts[1].context.span_id
    assert download.attributes["server.address"] == "127.0.0.1"
    assert download.attributes["imagegate.bytes"] == len(download_server["data"])
    received = download_server["headers"]
    assert len(received) == 1
    assert received[0]["traceparent"] == f"00-{TRACE_ID}-{format(download.context.span_id, '016x')}-01"


async def test_without_a_carrier_each_request_starts_its_own_trace(make_gateway: Any, spans: Any) -> None:
    gateway = await make_gateway()
    for _ in range(2):
        await gateway.run("generate", ImageRequest(prompt="x", model="placeholder", size="64x64"))
    requests = by_name(spans.get_finished_spans(), "imagegate.request")
    assert len(requests) == 2 and requests[0].context.trace_id != requests[1].context.trace_id
    assert all(r.parent is None for r in requests)


async def test_a_third_party_provider_is_traced_through_the_installed_module(
        make_gateway: Any, spans: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry-point module (not the injectable object) builds its own provider and still traces."""
    import imagegate_observability
    from imagegate_observability.telemetry import telemetry_for

    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    provider = FlakyProvider()
    gateway = await make_gateway(provider, plugin=imagegate_observability)
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
    telemetry = telemetry_for(gateway)
    assert provider.headers_seen[0]["traceparent"].startswith("00-")
    assert spans.get_finished_spans() == ()  # the injected provider was not used
    assert telemetry.metrics.registry.get_sample_value("imagegate_requests_total", {
        "frontend": "api", "provider": "flaky", "model": "flaky-model", "operation": "generate",
        "outcome": "success"}) == 1


async def test_closing_the_gateway_exports_spans_still_batched(make_gateway: Any) -> None:
    """A one-shot CLI run must not lose its trace: the ``shutdown`` hook flushes the exporter."""
    from imagegate_observability.plugin import ObservabilityPlugin
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    try:
        gateway = await make_gateway(plugin=ObservabilityPlugin(tracer_provider=provider))
        await gateway.run("generate", ImageRequest(prompt="x", model="placeholder", size="64x64"))
        assert exporter.get_finished_spans() == ()
        await gateway.aclose()
        assert [span.name for span in exporter.get_finished_spans()].count("imagegate.request") == 1
    finally:
        provider.shutdown()
