"""What the front-ends show about each model besides its capabilities: lifecycle and readiness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import ModelSpec
    from ._gateway import Gateway

__all__ = ["ALARM_DAYS", "lifecycle_text", "model_entry"]

ALARM_DAYS = 30
"""``imagegate models --check`` fails when the default model shuts down within this many days."""


def model_entry(gateway: Gateway, spec: ModelSpec, default_model: str) -> dict[str, Any]:
    """``spec.summary()`` plus ``ready``, ``setup`` (what makes it ready) and ``default``."""
    setup = gateway.registry.setup_needed(spec)
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
