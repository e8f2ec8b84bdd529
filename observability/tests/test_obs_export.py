"""Span export follows the standard OTEL_* variables; with none set nothing is exported or imported."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from imagegate._models import ImageRequest
from imagegate_observability.export import build_tracer_provider, exporter_names, tracer_provider_for


def processors(provider: Any) -> tuple[Any, ...]:
    return provider._active_span_processor._span_processors  # noqa: SLF001 - no public accessor


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, []),
    ({"OTEL_TRACES_EXPORTER": "none"}, []),
    ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
    ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["otlp"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ["otlp"]),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, []),
])
def test_exporter_names_follow_the_environment(environ: dict[str, str], expected: list[str]) -> None:
    assert exporter_names(environ) == expected


def test_nothing_configured_means_no_exporter_and_no_exporter_import() -> None:
    before = {name for name in sys.modules if name.startswith("opentelemetry.exporter")}
    provider = build_tracer_provider({})
    assert processors(provider) == ()
    assert {name for name in sys.modules if name.startswith("opentelemetry.exporter")} == before
    assert provider.resource.attributes["service.name"] == "imagegate"
    provider.shutdown()


def test_service_name_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "images-prod")
    provider = build_tracer_provider({})
    assert provider.resource.attributes["service.name"] == "images-prod"
    provider.shutdown()


def test_a_missing_otlp_exporter_is_reported_and_skipped(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.grpc.trace_exporter", None)
    provider = build_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert processors(provider) == ()
    assert "reinstall imagegate-observability" in caplog.text
    grpc = build_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                                  "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert processors(grpc) == ()
    assert "pip install 'imagegate-observability[otlp]'" in caplog.text
    provider.shutdown()
    grpc.shutdown()


def test_the_otlp_http_exporter_comes_with_the_plugin() -> None:
    provider = build_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    (processor,) = processors(provider)
    assert type(processor.span_exporter).__module__ == "opentelemetry.exporter.otlp.proto.http.trace_exporter"
    provider.shutdown()


def test_sdk_disabled_gives_a_no_op_provider() -> None:
    from opentelemetry import trace

    assert isinstance(tracer_provider_for({"OTEL_SDK_DISABLED": "true"}), trace.NoOpTracerProvider)


def test_an_application_provider_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    app_provider = TracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: app_provider)
    assert tracer_provider_for({"OTEL_TRACES_EXPORTER": "console"}) is app_provider


async def test_console_exporter_prints_the_request_span(make_gateway: Any, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import imagegate_observability
    from imagegate_observability.telemetry import telemetry_for

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    gateway = await make_gateway(plugin=imagegate_observability)
    result = await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
    telemetry_for(gateway).tracer_provider.force_flush()
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout belongs to the CLI's answer and MCP's stdio protocol
    spans_text = "\n".join(line for line in captured.err.splitlines() if not line.startswith('{"ts"'))
    documents = json.loads("[" + spans_text.replace("}\n{", "},\n{") + "]")
    request = next(d for d in documents if d["name"] == "imagegate.request")
    assert request["attributes"]["imagegate.request_id"] == result.request_id
    assert {d["name"] for d in documents} == {
        "imagegate.request", "imagegate.provider_attempt", "imagegate.storage_write"}
