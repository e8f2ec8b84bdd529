"""The Prometheus metrics (names and labels are part of the public contract) and their exposition.

Each plugin instance keeps its own :class:`~prometheus_client.CollectorRegistry` rather than the
process-wide default, so two gateways in one process (or two tests) never share counters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["DELETE_REASONS", "DURATION_BUCKETS", "METRIC_NAMES", "Metrics", "exposition"]

DURATION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 180, 300)
"""Seconds: from a cached placeholder render to a slow high-quality generation."""

METRIC_NAMES: tuple[str, ...] = (
    "imagegate_requests_total",
    "imagegate_request_duration_seconds",
    "imagegate_upstream_duration_seconds",
    "imagegate_upstream_retries_total",
    "imagegate_images_total",
    "imagegate_image_bytes_total",
    "imagegate_cost_usd_total",
    "imagegate_requests_in_flight",
    "imagegate_deprecated_requests_total",
    "imagegate_images_deleted_total",
    "imagegate_deleted_bytes_total",
)

DELETE_REASONS: tuple[str, ...] = ("age", "size")
"""Why retention deletes an image (``STORAGE__RETENTION_DAYS`` or ``STORAGE__MAX_SIZE_GB``)."""


class Metrics:
    """Every metric the gateway exports, registered in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self.requests = Counter(
            "imagegate_requests", "Requests served, by outcome (success or the error code).",
            ["frontend", "provider", "model", "operation", "outcome"], registry=reg)
        self.request_duration = Histogram(
            "imagegate_request_duration_seconds", "Time to serve a request end to end, retries included.",
            ["frontend", "provider", "model", "operation"], buckets=DURATION_BUCKETS, registry=reg)
        self.upstream_duration = Histogram(
            "imagegate_upstream_duration_seconds", "Time of one upstream attempt, downloads included.",
            ["provider", "model"], buckets=DURATION_BUCKETS, registry=reg)
        self.retries = Counter(
            "imagegate_upstream_retries", "Upstream attempts retried, by the error that caused the retry.",
            ["provider", "model", "reason"], registry=reg)
        self.images = Counter(
            "imagegate_images", "Images stored.", ["provider", "model"], registry=reg)
        self.image_bytes = Counter(
            "imagegate_image_bytes", "Bytes of images stored.", ["provider", "model"], registry=reg)
        self.cost = Counter(
            "imagegate_cost_usd", "USD spent on provider calls (actual when reported, else estimated), "
            "including requests that failed after the provider was paid.",
            ["provider", "model", "operation"], registry=reg)
        self.key_spend = Counter(
            "imagegate_key_spend_usd", "USD spent by each virtual key (actual when reported, else estimated).",
            ["key"], registry=reg)
        self.in_flight = Gauge(
            "imagegate_requests_in_flight", "Requests being served now.", ["frontend"], registry=reg)
        self.deprecated = Counter(
            "imagegate_deprecated_requests", "Requests naming a deprecated model (they still run).",
            ["provider", "model"], registry=reg)
        self.deleted = Counter(
            "imagegate_images_deleted", "Images retention deleted, by reason (age or size).", ["reason"],
            registry=reg)
        self.deleted_bytes = Counter(
            "imagegate_deleted_bytes", "Bytes of images retention deleted, by reason.", ["reason"], registry=reg)
        self._children: dict[tuple[int, tuple[Any, ...]], Any] = {}
        for reason in DELETE_REASONS:  # exported as 0 before the first deletion
            self.child(self.deleted, reason)
            self.child(self.deleted_bytes, reason)

    def child(self, metric: Any, *labels: Any) -> Any:
        """``metric.labels(*labels)``, looked up once per label set (the lookup costs every request)."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asked for (Prometheus text or OpenMetrics)."""
    from prometheus_client.exposition import choose_encoder

    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
