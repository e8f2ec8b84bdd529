"""Exact label sets and exact deltas of every metric, /metrics on the HTTP app, and the metrics port."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from imagegate._errors import InvalidRequest, NotFound, StorageError, UpstreamError
from imagegate._models import ImageRequest

from .support import FlakyProvider


def samples(registry: CollectorRegistry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called ``name``, keyed by its sorted labels."""
    return {tuple(sorted(s.labels.items())): s.value
            for family in registry.collect() for s in family.samples if s.name == name}


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


@pytest.fixture
def plugin(spans: Any) -> Any:
    from imagegate_observability.plugin import ObservabilityPlugin

    return ObservabilityPlugin(tracer_provider=spans.tracer_provider, registry=CollectorRegistry())


async def test_a_retried_success_moves_each_metric_by_exactly_its_share(make_gateway: Any, plugin: Any) -> None:
    registry = plugin.metrics.registry
    provider = FlakyProvider(failures=1)
    seen_in_flight: list[float | None] = []
    provider.on_call = lambda: seen_in_flight.append(
        registry.get_sample_value("imagegate_requests_in_flight", {"frontend": "mcp"}))
    gateway = await make_gateway(provider, plugin=plugin)
    result = await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model", n=2), frontend="mcp")

    request = labels(frontend="mcp", provider="flaky", model="flaky-model", operation="generate")
    model = labels(provider="flaky", model="flaky-model")
    assert samples(registry, "imagegate_requests_total") == {labels(
        frontend="mcp", provider="flaky", model="flaky-model", operation="generate", outcome="success"): 1}
    assert samples(registry, "imagegate_request_duration_seconds_count") == {request: 1}
    assert samples(registry, "imagegate_upstream_duration_seconds_count") == {model: 2}
    assert samples(registry, "imagegate_upstream_retries_total") == {
        labels(provider="flaky", model="flaky-model", reason="upstream_error"): 1}
    assert samples(registry, "imagegate_images_total") == {model: 2}
    assert samples(registry, "imagegate_image_bytes_total") == {model: sum(i.bytes for i in result.images)}
    cost = samples(registry, "imagegate_cost_usd_total")
    assert list(cost) == [labels(provider="flaky", model="flaky-model", operation="generate")]
    assert list(cost.values())[0] == pytest.approx(0.08)
    assert seen_in_flight == [1.0, 1.0]
    assert samples(registry, "imagegate_requests_in_flight") == {labels(frontend="mcp"): 0}


async def test_a_virtual_keys_spend_is_counted_by_key_name(make_gateway: Any, plugin: Any) -> None:
    from imagegate._keys import VirtualKey, key_digest

    gateway = await make_gateway(FlakyProvider(), plugin=plugin)
    await gateway.keys.store.add(VirtualKey(name="team-a", digest=key_digest("igk_secret"), hint="igk_secr"))
    caller = await gateway.keys.identify("igk_secret")
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model", n=2), caller=caller)
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))  # no key: not counted
    spend = samples(plugin.metrics.registry, "imagegate_key_spend_usd_total")
    assert list(spend) == [labels(key="team-a")] and spend[labels(key="team-a")] == pytest.approx(0.08)


async def test_failures_count_by_error_code_and_add_no_images_or_cost(make_gateway: Any, plugin: Any) -> None:
    registry = plugin.metrics.registry
    gateway = await make_gateway(FlakyProvider(failures=99), max_retries=1, plugin=plugin)
    with pytest.raises(UpstreamError):
        await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"), frontend="http")
    with pytest.raises(NotFound):
        await gateway.run("generate", ImageRequest(prompt="x", model="no-such-model-3f9a"), frontend="http")
    assert samples(registry, "imagegate_requests_total") == {
        labels(frontend="http", provider="flaky", model="flaky-model", operation="generate",
               outcome="upstream_error"): 1,
        labels(frontend="http", provider="unknown", model="other", operation="generate", outcome="not_found"): 1,
    }
    assert samples(registry, "imagegate_upstream_retries_total") == {
        labels(provider="flaky", model="flaky-model", reason="upstream_error"): 1}
    assert samples(registry, "imagegate_upstream_duration_seconds_count") == {
        labels(provider="flaky", model="flaky-model"): 2}
    assert samples(registry, "imagegate_images_total") == {}
    assert samples(registry, "imagegate_cost_usd_total") == {}
    assert samples(registry, "imagegate_requests_in_flight") == {labels(frontend="http"): 0}


async def test_a_storage_failure_counts_as_storage_error_with_no_image_stored(make_gateway: Any,
                                                                            plugin: Any) -> None:
    registry = plugin.metrics.registry
    gateway = await make_gateway(storage="failing", plugin=plugin)
    with pytest.raises(StorageError):
        await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"), frontend="cli")
    assert samples(registry, "imagegate_requests_total") == {labels(
        frontend="cli", provider="flaky", model="flaky-model", operation="generate", outcome="storage_error"): 1}
    assert samples(registry, "imagegate_images_total") == {}
    assert samples(registry, "imagegate_image_bytes_total") == {}
    assert samples(registry, "imagegate_upstream_duration_seconds_count") == {
        labels(provider="flaky", model="flaky-model"): 1}
    # the provider was paid before storage failed: that money counts as spent
    assert samples(registry, "imagegate_cost_usd_total") == {
        labels(provider="flaky", model="flaky-model", operation="generate"): pytest.approx(0.04)}


async def test_an_alias_or_qualified_id_is_labelled_with_the_short_model_id(make_gateway: Any,
                                                                            plugin: Any) -> None:
    registry = plugin.metrics.registry
    gateway = await make_gateway(plugin=plugin)
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky/flaky-model"))
    assert list(samples(registry, "imagegate_requests_total")) == [labels(
        frontend="api", provider="flaky", model="flaky-model", operation="generate", outcome="success")]


async def test_metrics_route_on_the_http_app_serves_the_text_format(make_gateway: Any, plugin: Any) -> None:
    gateway = await make_gateway(plugin=plugin)
    await gateway.run("generate", ImageRequest(prompt="x", model="placeholder", size="64x64"), frontend="http")
    app = web.Application()
    gateway.pm.hook.register_routes(app=app, gateway=gateway)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/metrics")
        body = await response.text()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert ('imagegate_requests_total{frontend="http",model="placeholder",operation="generate",'
                'outcome="success",provider="placeholder"} 1.0') in body
        openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await openmetrics.text()).rstrip().endswith("# EOF")


async def test_metrics_port_serves_the_registry_and_stops(make_gateway: Any, plugin: Any) -> None:
    from imagegate_observability.telemetry import telemetry_for

    gateway = await make_gateway(plugin=plugin, observability={"metrics_port": 0})
    telemetry = telemetry_for(gateway)
    server = telemetry.metrics_server
    assert server is not None and server.host == "127.0.0.1" and server.port > 0
    await gateway.run("generate", ImageRequest(prompt="x", model="placeholder", size="64x64"), frontend="mcp")
    async with aiohttp.ClientSession() as session, session.get(server.url) as response:
        body = await response.text()
    assert response.status == 200
    assert 'imagegate_requests_in_flight{frontend="mcp"} 0.0' in body
    await gateway.aclose()
    assert telemetry.metrics_server is None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


async def test_a_busy_metrics_port_names_the_variable(make_gateway: Any, plugin: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InvalidRequest, match="OBSERVABILITY__METRICS_PORT") as caught:
            await make_gateway(plugin=plugin, observability={"metrics_port": port})
    assert caught.value.param == "OBSERVABILITY__METRICS_PORT"


async def test_an_unknown_observability_setting_is_refused(make_gateway: Any, plugin: Any) -> None:
    with pytest.raises(InvalidRequest, match="OBSERVABILITY__METRIC_PORT"):
        await make_gateway(plugin=plugin, observability={"metric_port": 9000})


async def test_retention_deletions_are_counted_by_reason(make_gateway: Any, plugin: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from imagegate._retention import collect_garbage

    registry = plugin.metrics.registry
    gateway = await make_gateway(plugin=plugin)
    assert samples(registry, "imagegate_images_deleted_total") == {labels(reason="age"): 0, labels(reason="size"): 0}
    await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model", n=2))
    gateway.settings.storage.retention_days = 1
    report = await collect_garbage(gateway, now=datetime.now(UTC) + timedelta(days=2))
    assert len(report.deleted) == 2
    assert samples(registry, "imagegate_images_deleted_total") == {labels(reason="age"): 2, labels(reason="size"): 0}
    assert samples(registry, "imagegate_deleted_bytes_total") == {
        labels(reason="age"): report.bytes, labels(reason="size"): 0}
