"""Cost from the catalog's price tables: an estimate before the call, the actual cost after it.

Per-image models multiply a matched price by the count. Token-billed models (GPT image) price
text and image tokens separately, in and out: the estimate uses the catalog's typical output
tokens for the request's quality and size, the actual cost the usage the provider reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import ModelSpec, PriceRule, ValidRequest
    from ._provider import ProviderResult

__all__ = ["Usage", "actual_cost", "estimate_cost", "per_image_cost", "result_cost", "sum_usage"]

_CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens a provider reports for one call."""

    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_image_tokens: int = 0
    output_text_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "input_text_tokens": self.input_text_tokens,
            "input_image_tokens": self.input_image_tokens,
            "output_image_tokens": self.output_image_tokens,
            "output_text_tokens": self.output_text_tokens,
        }


def _first(rules: list[PriceRule], values: dict[str, Any]) -> PriceRule | None:
    return next((rule for rule in rules if rule.applies(values)), None)


def _per_mtok(tokens: int, price: float | None) -> float:
    return tokens * (price or 0.0) / 1_000_000


def estimate_cost(spec: ModelSpec, request: ValidRequest, image_count: int = 0) -> float | None:
    """Estimated USD for a validated request, or None when the catalog has no price."""
    pricing = spec.pricing
    values = request.effective(spec)
    per_image = per_image_cost(spec, values, request.n)
    if per_image is not None:
        return per_image
    if pricing.image_output_per_mtok is None:
        return None
    tokens_rule = _first(pricing.output_tokens, values)
    tokens = tokens_rule.tokens_for(values.get("size")) if tokens_rule else None
    if tokens is None:
        return None
    prompt_tokens = len(request.prompt or "") // _CHARS_PER_TOKEN + 1
    usage = Usage(
        input_text_tokens=prompt_tokens,
        input_image_tokens=image_count * (pricing.input_tokens_per_image or 0),
        output_image_tokens=tokens * request.n,
    )
    return actual_cost(spec, usage)


def per_image_cost(spec: ModelSpec, values: dict[str, Any], count: int) -> float | None:
    """USD for ``count`` images of a per-image-priced model with these effective parameters
    (see :meth:`~imagegate._catalog.ValidRequest.effective`), or None when no price matches."""
    rule = _first(spec.pricing.per_image, values)
    if rule is None or rule.usd is None:
        return None
    return round(rule.usd * count, 6)


def actual_cost(spec: ModelSpec, usage: Usage | None) -> float | None:
    """USD from reported usage, or None when the model is not token-billed or usage is unknown."""
    pricing = spec.pricing
    if usage is None or pricing.image_output_per_mtok is None:
        return None
    total = (
        _per_mtok(usage.input_text_tokens, pricing.text_input_per_mtok)
        + _per_mtok(usage.input_image_tokens, pricing.image_input_per_mtok)
        + _per_mtok(usage.output_image_tokens, pricing.image_output_per_mtok)
        + _per_mtok(usage.output_text_tokens, pricing.text_output_per_mtok)
    )
    return round(total, 6)


def sum_usage(results: list[ProviderResult]) -> dict[str, int] | None:
    """The tokens of several calls (a fanned-out request) added up, or None when none reported any."""
    usages = [r.usage for r in results if r.usage is not None]
    if not usages:
        return None
    total: dict[str, int] = {}
    for usage in usages:
        for key, value in usage.as_dict().items():
            total[key] = total.get(key, 0) + value
    return total


def result_cost(spec: ModelSpec, results: list[ProviderResult], usage: dict[str, int] | None) -> float | None:
    """What the calls actually cost: as the providers reported it, else priced from their usage."""
    reported = [r.actual_cost_usd for r in results if r.actual_cost_usd is not None]
    if reported:
        return round(sum(reported), 6)
    return actual_cost(spec, Usage(**usage)) if usage is not None else None
