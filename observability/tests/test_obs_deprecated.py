"""``imagegate_deprecated_requests_total`` counts requests naming a deprecated model."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from imagegate._models import ImageRequest


async def test_each_request_for_a_deprecated_model_is_counted(make_gateway: Any, spans: Any) -> None:
    from imagegate_observability.plugin import ObservabilityPlugin

    plugin = ObservabilityPlugin(tracer_provider=spans.tracer_provider, registry=CollectorRegistry())
    deprecated = {"status": "deprecated", "shutdown_date": "2031-01-15", "replacement": "placeholder"}
    gateway = await make_gateway(plugin=plugin, models={"flaky-model": deprecated})
    for _ in range(2):
        result = await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
        assert result.deprecation == {"shutdown_date": "2031-01-15", "replacement": "placeholder"}
    await gateway.run("generate", ImageRequest(prompt="x", model="placeholder"))
    samples = {tuple(sorted(s.labels.items())): s.value for family in plugin.metrics.registry.collect()
               for s in family.samples if s.name == "imagegate_deprecated_requests_total"}
    assert samples == {(("model", "flaky-model"), ("provider", "flaky")): 2}
