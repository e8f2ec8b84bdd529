"""Costs computed in core: per-image prices, usage added up over calls, the actual cost of results."""

from __future__ import annotations

import pytest

from imagegate.catalog import ModelSpec, Pricing
from imagegate.pricing import per_image_cost, result_cost, sum_usage
from imagegate.provider import ProviderImage, ProviderResult, Usage

from .test_gateway import fake_spec

TOKENS = ModelSpec(id="t", provider="p", upstream="t",
                   pricing=Pricing(image_output_per_mtok=40.0, text_input_per_mtok=5.0))


def result(usage: Usage | None = None, cost: float | None = None) -> ProviderResult:
    return ProviderResult(images=[ProviderImage(b"x")], usage=usage, actual_cost_usd=cost)


def test_per_image_cost_takes_the_first_matching_rule_times_the_count() -> None:
    spec = fake_spec()
    assert per_image_cost(spec, {"quality": "high"}, 3) == pytest.approx(0.6)
    assert per_image_cost(spec, {"quality": "low"}, 2) == pytest.approx(0.2)
    assert per_image_cost(TOKENS, {}, 1) is None


def test_usage_of_several_calls_is_added_up() -> None:
    usage = sum_usage([result(Usage(input_text_tokens=3, output_image_tokens=100)), result(),
                       result(Usage(output_image_tokens=50))])
    assert usage == {"input_text_tokens": 3, "input_image_tokens": 0, "output_image_tokens": 150,
                     "output_text_tokens": 0}
    assert sum_usage([result(), result()]) is None


def test_reported_costs_win_over_usage_and_usage_is_priced_otherwise() -> None:
    assert result_cost(TOKENS, [result(cost=0.02), result(cost=0.03)], None) == pytest.approx(0.05)
    usage = {"input_text_tokens": 1000, "output_image_tokens": 1000}
    assert result_cost(TOKENS, [result()], usage) == pytest.approx((1000 * 5 + 1000 * 40) / 1e6)
    assert result_cost(TOKENS, [result()], None) is None
    assert result_cost(fake_spec(), [result()], usage) is None  # not token-billed
