"""One request through each front-end yields one complete trace (joined to the caller's), the
metric increments and one structured log event, for the real provider plugins, which contain no
observability code, against the faked OpenAI upstream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from .support import run_cli

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class Observed:
    """An in-memory span exporter and metrics registry injected into the observability plugin."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from prometheus_client import CollectorRegistry

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.registry = CollectorRegistry()

    def requests_total(self, frontend: str) -> float | None:
        return self.registry.get_sample_value("imagegate_requests_total", {
            "frontend": frontend, "provider": "openai", "model": "gpt-image-2.6-sunburst", "operation": "generate",
            "outcome": "success"})

    def assert_one_trace_joined(self, request_id: str) -> None:
        spans = self.exporter.get_finished_spans()
        (request,) = [span for span in spans if span.name == "imagegate.request"]
        assert request.attributes["imagegate.request_id"] == request_id
        assert f"{request.context.trace_id:032x}" == TRACE_ID and f"{request.parent.span_id:016x}" == PARENT_ID
        children = {span.name for span in spans if span.parent and span.parent.span_id == request.context.span_id}
        assert children == {"imagegate.provider_attempt", "imagegate.storage_write"}


@pytest.fixture
async def observed_gateway(upstream_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                           ) -> AsyncIterator[Callable[[], Awaitable[tuple[Any, Observed]]]]:
    """A gateway from the environment and the installed plugins, observability made inspectable."""
    from imagegate._gateway import Gateway
    from imagegate._plugins import make_plugin_manager
    from imagegate._settings import Settings
    from imagegate_observability.plugin import ObservabilityPlugin

    opened: list[tuple[Any, Observed]] = []

    async def build() -> tuple[Any, Observed]:
        for name, value in upstream_env.items():
            monkeypatch.setenv(name, value)
        observed = Observed()
        pm = make_plugin_manager()
        pm.unregister(name="observability")
        pm.register(ObservabilityPlugin(tracer_provider=observed.provider, registry=observed.registry),
                    name="observability")
        gateway = await Gateway(Settings(), pm).open()
        opened.append((gateway, observed))
        return gateway, observed

    yield build
    for gateway, observed in opened:
        await gateway.aclose()
        observed.provider.shutdown()


def request_events(stderr: str) -> list[dict[str, Any]]:
    return [event for line in stderr.splitlines() if line.startswith('{"ts"')
            if (event := json.loads(line)).get("logger") == "imagegate.requests"]


async def test_http(observed_gateway: Any, fake_openai: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import openai
    from imagegate_http.app import create_app
    from imagegate_http.testing import loopback_socket, start_app

    gateway, observed = await observed_gateway()
    sock, base_url = loopback_socket()
    runner = await start_app(create_app(gateway), sock)
    try:
        capsys.readouterr()
        client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0,
                                    default_headers={"traceparent": TRACEPARENT})
        answer = await client.images.generate(model="gpt-image-2.6-sunburst", prompt="a fox", size="1024x1024")
        async with client._client.stream("GET", base_url + "/metrics") as metrics:  # noqa: SLF001
            exposition = (await metrics.aread()).decode()
    finally:
        await runner.cleanup()
    observed.assert_one_trace_joined(answer.model_extra["imagegate"]["request_id"])  # type: ignore[index]
    assert fake_openai.calls[0].headers["traceparent"].split("-")[1] == TRACE_ID
    assert observed.requests_total("http") == 1
    assert 'imagegate_requests_total{frontend="http",model="gpt-image-2.6-sunburst"' in exposition
    (event,) = request_events(capsys.readouterr().err)
    assert (event["frontend"], event["outcome"], event["trace_id"]) == ("http", "success", TRACE_ID)


async def test_mcp(observed_gateway: Any, fake_openai: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from imagegate_mcp.testing import serve_streamable_http
    from mcp import Client

    gateway, observed = await observed_gateway()
    async with serve_streamable_http(gateway) as url, Client(url) as client:
        capsys.readouterr()
        result = await client.call_tool("generate-openai", {"prompt": "a fox", "deliver": "link"},
                                        meta={"traceparent": TRACEPARENT})
    assert result.is_error is False
    observed.assert_one_trace_joined(result.structured_content["request_id"])
    assert fake_openai.calls[0].headers["traceparent"].split("-")[1] == TRACE_ID
    assert observed.requests_total("mcp") == 1
    (event,) = request_events(capsys.readouterr().err)
    assert (event["frontend"], event["outcome"], event["trace_id"]) == ("mcp", "success", TRACE_ID)


async def test_cli(upstream_env: dict[str, str], fake_openai: Any) -> None:
    """The CLI starts its own trace: the console exporter (on stderr) shows it, the upstream got it.
    (The CLI writes its request event only when a log level is asked for.)"""
    done = await run_cli({**upstream_env, "OTEL_TRACES_EXPORTER": "console", "LOGGING__LEVEL": "INFO"},
                         "generate", "a fox", "-m", "gpt-image-2.6-sunburst", "--json")
    assert done.returncode == 0, done.stderr
    result = done.json()  # stdout holds the answer alone
    stderr = done.stderr
    (event,) = request_events(stderr)
    assert (event["frontend"], event["outcome"], event["request_id"]) == ("cli", "success", result["request_id"])
    trace_id = event["trace_id"]
    assert fake_openai.calls[0].headers["traceparent"].split("-")[1] == trace_id
    assert f'"trace_id": "0x{trace_id}"' in stderr and '"name": "imagegate.request"' in stderr
