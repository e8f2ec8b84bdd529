"""What the front-ends show about each model besides its capabilities: lifecycle and readiness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import ModelSpec
    from .gateway import Gateway

__all__ = ["ALARM_DAYS", "lifecycle_text", "model_entry", "readiness"]

ALARM_DAYS = 30
"""``imagegate models --check`` fails when the default model shuts down within this many days."""


def readiness(gateway: Gateway, spec: ModelSpec) -> str | None:
    """None when the model's provider is installed and configured (its readiness check passes, no
    network), else what to do: the variable to set, or the plugin to install."""
    from .errors import ImagegateError

    provider = gateway.registry.providers.get(spec.provider)
    if provider is None:
        return f"install the {spec.provider} provider plugin"
    try:
        provider.check_ready(spec)
    except ImagegateError as exc:
        return f"set {exc.param}" if exc.param else exc.message
    return None


def model_entry(gateway: Gateway, spec: ModelSpec, default_model: str) -> dict[str, Any]:
    """``spec.summary()`` plus ``ready``, ``setup`` (what makes it ready) and ``default``."""
    setup = readiness(gateway, spec)
    names = (spec.id, spec.qualified_id, *spec.aliases)
    return {**spec.summary(), "ready": setup is None, "setup": setup, "default": default_model in names}


def lifecycle_text(entry: dict[str, Any]) -> str:
    """``active``, ``deprecated: shuts down 2027-01-31, use X`` or ``RETIRED 2026-05-12, use X``."""
    status = entry["status"]
    text = "RETIRED" if status == "retired" else status
    if entry["shutdown_date"]:
        text += f" {'since' if status == 'retired' else 'shuts down'} {entry['shutdown_date']}"
    if entry["replacement"] and status != "active":
        text += f", use {entry['replacement']} instead"
    return text
