"""Costs computed in core: per-image prices, usage added up over calls, the actual cost of results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from imagegate._catalog import ModelSpec, Pricing
from imagegate._pricing import per_image_cost, result_cost, sum_usage
from imagegate._provider import ProviderImage, ProviderResult, Usage

from .pipeline_support import fake_spec

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


# price provenance ----------------------------------------------------------------------------------


def test_cost_says_unofficial_only_when_it_is() -> None:
    from imagegate._models import Cost

    assert Cost(0.1, 0.2, unofficial=True).as_dict() == {"estimated_usd": 0.1, "actual_usd": 0.2, "unofficial": True}
    assert Cost(0.1).as_dict() == {"estimated_usd": 0.1, "actual_usd": None}
    assert Pricing().source == "unknown" and not Pricing().unofficial and Pricing(source="unofficial").unofficial
    with pytest.raises(ValueError, match="source"):
        Pricing(source="rumour")


@pytest.fixture
async def priced(tmp_path: Path) -> AsyncIterator[Any]:
    from imagegate.testing import ScriptedPlugin, opened_gateway, temp_settings

    async with opened_gateway(temp_settings(tmp_path), ("priced", ScriptedPlugin.priced_by_source())) as gateway:
        yield gateway


async def test_estimates_results_and_metadata_carry_the_flag(priced: Any) -> None:
    from imagegate._models import ImageRequest

    estimate = await priced.estimate("generate", ImageRequest(prompt="x", model="unofficial-1", n=2))
    assert estimate["cost"] == {"estimated_usd": 0.1, "actual_usd": None, "unofficial": True}
    official = await priced.estimate("generate", ImageRequest(prompt="x", model="official-1"))
    assert "unofficial" not in official["cost"]
    result = await priced.run("generate", ImageRequest(prompt="x", model="unofficial-1"))
    assert result.contract()["cost"] == {"estimated_usd": 0.05, "actual_usd": None, "unofficial": True}
    assert (await priced.metadata(result.images[0].id))["cost"]["unofficial"] is True
    plain = await priced.run("generate", ImageRequest(prompt="x", model="official-1"))
    assert "unofficial" not in plain.contract()["cost"]


async def test_the_cli_says_when_prices_are_unofficial(priced: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from imagegate.cli._dry_run import dry_run
    from imagegate.cli._info import _print_models
    from imagegate._model_status import model_entry
    from imagegate._models import ImageRequest

    for model in ("unofficial-1", "official-1"):
        spec = await priced.resolve_model(model)
        await dry_run(priced, spec, "generate", ImageRequest(prompt="x", model=model), as_json=False)
    lines = capsys.readouterr()
    said = lines.out + lines.err
    assert "unofficial-1 (priced): valid; estimated cost $0.0500 (unofficial prices)" in said
    assert "official-1 (priced): valid; estimated cost $0.0500\n" in said
    entries = [model_entry(priced, spec, priced.default_model) for spec in priced.models()]
    assert {e["id"]: e["price_source"] for e in entries if e["provider"] == "priced"} == {
        "official-1": "official", "unofficial-1": "unofficial"}
    _print_models(entries)
    listing = capsys.readouterr().out.splitlines()
    row = next(i for i, line in enumerate(listing) if line.startswith("unofficial-1"))
    assert "prices unofficial" in listing[row + 1]
    row = next(i for i, line in enumerate(listing) if line.startswith("official-1"))
    assert "prices unofficial" not in listing[row + 1]
