"""``imagegate models --check``: the catalog compared with what each configured upstream serves.

Providers that implement :class:`~imagegate._provider.ListsUpstreamModels` are asked once each.
The report names catalog models the upstream no longer lists, upstream image models the catalog
lacks, shutdown dates that differ, and how long the default model has left: ``alarm`` is set
when it is retired, gone upstream or unknown, or shuts down within :data:`ALARM_DAYS` days.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError

from ._errors import ImagegateError
from ._model_status import ALARM_DAYS
from ._provider import ListsUpstreamModels

if TYPE_CHECKING:
    from ._catalog import ModelSpec
    from ._gateway import Gateway
    from ._provider import UpstreamModel

__all__ = ["DefaultReport", "ProviderReport", "check_upstreams"]


@dataclass(slots=True)
class ProviderReport:
    """One provider's listing compared with the catalog (``error``: it could not be asked)."""

    provider: str
    error: str | None = None
    listed: int = 0
    missing_upstream: list[str] = field(default_factory=list)
    """Catalog models (not retired) whose upstream id the provider no longer lists."""
    not_in_catalog: list[str] = field(default_factory=list)
    """Upstream image model ids no catalog model names."""
    shutdown_changes: list[dict[str, str | None]] = field(default_factory=list)
    """``{"model", "catalog", "upstream"}`` where the upstream's shutdown date differs."""


@dataclass(slots=True)
class DefaultReport:
    """The default model: its effective shutdown date (the earlier of catalog and upstream)."""

    model: str
    status: str | None = None
    shutdown_date: str | None = None
    days_left: int | None = None
    replacement: str | None = None
    served: bool | None = None
    """Whether its upstream still lists it (None: not asked)."""
    alarm: str | None = None


async def check_upstreams(gateway: Gateway, today: date) -> dict[str, Any]:
    """The whole report as one JSON-ready object; ``ok`` is False when the default model alarms."""
    listings: dict[str, dict[str, UpstreamModel]] = {}
    reports = []
    names = [name for name, p in gateway.registry.providers.items() if isinstance(p, ListsUpstreamModels)]
    for report, listing in await asyncio.gather(*(_check_provider(gateway, name) for name in names)):
        reports.append(report)
        if listing is not None:
            listings[report.provider] = listing
    default = await _check_default(gateway, listings, today)
    return {"providers": [asdict(r) for r in reports], "default_model": asdict(default),
            "ok": default.alarm is None}


def _catalog(gateway: Gateway, provider: str) -> list[ModelSpec]:
    return [spec for spec in gateway.models() if spec.provider == provider]


async def _check_provider(gateway: Gateway, name: str) -> tuple[ProviderReport, dict[str, UpstreamModel] | None]:
    report = ProviderReport(name)
    specs = _catalog(gateway, name)
    setup = gateway.registry.setup_needed(specs[0]) if specs else None
    if setup is not None:
        report.error = f"not configured ({setup})"
        return report, None
    provider = gateway.registry.providers[name]
    try:
        async with asyncio.timeout(gateway.provider_settings(name).timeout_s):
            listed = await provider.list_upstream_models(gateway.session)  # type: ignore[union-attr]
    except ImagegateError as exc:
        report.error = f"listing failed: {exc.code}: {gateway.redactor.text(exc.message)}"
        return report, None
    except (ClientError, OSError, TimeoutError) as exc:
        report.error = f"listing failed: {type(exc).__name__}"
        return report, None
    listing = {item["id"]: item for item in listed}
    report.listed = len(listing)
    known = {name for spec in specs for name in (spec.upstream, spec.id, *spec.aliases)}
    report.not_in_catalog = sorted(i for i, item in listing.items() if item.get("image", True) and i not in known)
    for spec in specs:
        item = listing.get(spec.upstream)
        if item is None:
            if spec.status != "retired":
                report.missing_upstream.append(spec.id)
            continue
        catalog_date = spec.shutdown_date.isoformat() if spec.shutdown_date else None
        if item.get("shutdown_date") != catalog_date:
            report.shutdown_changes.append(
                {"model": spec.id, "catalog": catalog_date, "upstream": item.get("shutdown_date")})
    return report, listing


async def _check_default(gateway: Gateway, listings: dict[str, dict[str, UpstreamModel]],
                         today: date) -> DefaultReport:
    report = DefaultReport(gateway.default_model)
    try:
        spec = await gateway.resolve_model(report.model)
    except ImagegateError as exc:
        report.alarm = f"the default model cannot be used: {exc.message}"
        return report
    report.status, report.replacement = spec.status, spec.replacement
    dates = [spec.shutdown_date] if spec.shutdown_date else []
    listing = listings.get(spec.provider)
    if listing is not None:
        item = listing.get(spec.upstream)
        report.served = item is not None
        if item is not None and item.get("shutdown_date"):
            dates.append(date.fromisoformat(str(item["shutdown_date"])))
    if dates:
        shutdown = min(dates)
        report.shutdown_date, report.days_left = shutdown.isoformat(), (shutdown - today).days
    if spec.status == "retired":
        report.alarm = f"the default model {spec.id} is retired"
    elif report.served is False:
        report.alarm = f"{spec.provider} no longer lists the default model {spec.id}"
    elif report.days_left is not None and report.days_left <= ALARM_DAYS:
        report.alarm = f"the default model {spec.id} shuts down in {report.days_left} day(s)"
    return report
