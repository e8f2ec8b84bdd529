"""``--dry-run``: validate and price a request without making it, and say what the price means.

The estimate is the gateway's; this adds whether the provider could be called at all (a missing key
does not stop the pricing) and whether the price is an upper bound because a parameter left at
``auto`` was priced as its dearest choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._output import echo, emit_json

if TYPE_CHECKING:
    from .._catalog import ModelSpec, Operation
    from .._gateway import Gateway
    from .._models import ImageRequest

__all__ = ["auto_priced", "dry_run"]


def auto_priced(spec: ModelSpec, parameters: dict[str, Any]) -> list[str]:
    """The parameters left at ``auto`` that the model's price depends on."""
    rules = [*spec.pricing.per_image, *spec.pricing.output_tokens]
    keys = {key for rule in rules for key in rule.match}
    return sorted(key for key in keys if str(parameters.get(key)) == "auto")


def _missing_key(gateway: Gateway, spec: ModelSpec) -> str | None:
    from .._errors import AuthenticationError

    provider = gateway.registry.providers.get(spec.provider)
    try:
        if provider is not None:
            provider.check_ready(spec)
    except AuthenticationError as exc:
        return exc.message
    return None


async def dry_run(gateway: Gateway, spec: ModelSpec, operation: Operation, request: ImageRequest,
                  as_json: bool) -> None:
    """Print the estimate with ``ready``, ``upper_bound`` and ``notes``."""
    estimate = await gateway.estimate(operation, request)
    notes: list[str] = []
    missing_key = _missing_key(gateway, spec)
    if missing_key:
        notes.append(f"no key: {missing_key}; priced anyway, the real call would fail")
    auto = auto_priced(spec, estimate["parameters"])
    upper_bound = bool(auto) and estimate["cost"]["estimated_usd"] is not None
    if upper_bound:
        notes.append(f"an upper bound: {', '.join(f'{name}=auto' for name in auto)} priced as the dearest choice")
    estimate.update(ready=missing_key is None, upper_bound=upper_bound, notes=notes)
    if as_json:
        emit_json(estimate)
        return
    cost = estimate["cost"]["estimated_usd"]
    price = "unknown" if cost is None else f"{'at most ' if upper_bound else ''}${cost:.4f}"
    if cost is not None and estimate["cost"].get("unofficial"):
        price += " (unofficial prices)"
    echo(f"{estimate['model']} ({estimate['provider']}): valid; estimated cost {price}")
    for note in notes:
        echo(f"note: {note}")
