"""Costs general gateways get wrong: auto quality and size, arbitrary sizes, input-image tokens on
edits, output tokens priced as image tokens (not text tokens), and which prices are official."""

from __future__ import annotations

import math
from typing import Any

import pytest

from imagegate import ImageInput, ImageRequest
from imagegate._pricing import Usage, actual_cost
from imagegate_openai.catalog import IMAGE_OUTPUT_TOKENS, TOKEN_PRICES, builtin_models, image_output_tokens
from imagegate_openai.results import usage_from
from imagegate_openai.testing import image_bytes
from imagegate.testing.mock_http import mock_upstream

from .support import BASE_URL, gpt_usage, images_answer

MODELS = {spec.id: spec for spec in builtin_models()}
SUN = "gpt-image-2.6-sunburst"
PROMPT_COST = (len("a cat") // 4 + 1) * 5 / 1e6


async def estimate(gateway: Any, operation: str, **kwargs: Any) -> float:
    result = await gateway.estimate(operation, ImageRequest(**kwargs))
    return result["cost"]["estimated_usd"]


def test_the_price_table_and_its_sources() -> None:
    assert {model: (p.text_in, p.image_in, p.image_out) for model, p in TOKEN_PRICES.items()
            if model.startswith("gpt-image-2")} == {
        model: (5.0, 8.0, 30.0) for model in ("gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
                                             "gpt-image-2.6-sunburst", "gpt-image-2.6-flare")}
    unofficial = sorted(spec.id for spec in MODELS.values()
                        if spec.status == "active" and spec.api == "images" and spec.pricing.source == "unofficial")
    assert unofficial == sorted(["gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-sunburst",
                                 "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare",
                                 "gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-flare"])
    assert all("unofficial" in MODELS[model].description for model in unofficial)
    assert MODELS[SUN].pricing.source == "official" and "unofficial" not in MODELS[SUN].description
    assert all("price_source" not in spec.options for spec in MODELS.values())
    assert {spec.pricing.source for spec in MODELS.values() if spec.api == "responses"} == {"unofficial"}
    snapshot = MODELS["gpt-image-2.5-flare-2026-09-08"].pricing
    assert snapshot == MODELS["gpt-image-2.5-flare"].pricing


async def test_auto_quality_and_size_estimate_the_dearest(make_gateway: Any) -> None:
    gateway = await make_gateway()
    assert await estimate(gateway, "generate", prompt="a cat", model=SUN) == pytest.approx(
        PROMPT_COST + 6240 * 30 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model=SUN, size="1024x1024") == \
        pytest.approx(PROMPT_COST + 4160 * 30 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model=SUN,
                          params={"quality": "low"}) == pytest.approx(PROMPT_COST + 408 * 30 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model="gpt-image-2", n=3, size="1024x1024",
                          params={"quality": "medium"}) == pytest.approx(PROMPT_COST + 3 * 1056 * 30 / 1e6)
    assert image_output_tokens("auto", "auto") == 6240 and image_output_tokens(None, None) == 6240


@pytest.mark.parametrize(("quality", "size"), [
    ("low", "1536x864"), ("medium", "3840x2160"), ("high", "2160x3840"), ("auto", "2560x1440"),
    ("xhigh", "1024x1024"), ("max", "3840x1280"), ("max", "16x16"),
])
async def test_arbitrary_sizes_and_top_qualities_never_undercount(make_gateway: Any, quality: str,
                                                                  size: str) -> None:
    gateway = await make_gateway()
    width, height = map(int, size.split("x"))
    key = "high" if quality == "auto" else quality
    densest = max(tokens / (int(s.split("x")[0]) * int(s.split("x")[1]))
                  for s, tokens in IMAGE_OUTPUT_TOKENS[key].items())
    tokens = image_output_tokens(quality, size)
    assert tokens >= densest * width * height - 1e-6
    if size in IMAGE_OUTPUT_TOKENS[key]:
        assert tokens == IMAGE_OUTPUT_TOKENS[key][size]
    else:
        assert tokens == math.ceil(densest * width * height)
    assert await estimate(gateway, "generate", prompt="a cat", model=SUN, size=size,
                          params={"quality": quality}) == pytest.approx(PROMPT_COST + tokens * 30 / 1e6, abs=1e-6)
    assert IMAGE_OUTPUT_TOKENS["xhigh"]["1024x1024"] > IMAGE_OUTPUT_TOKENS["high"]["1024x1024"]
    assert IMAGE_OUTPUT_TOKENS["max"]["1024x1024"] > IMAGE_OUTPUT_TOKENS["xhigh"]["1024x1024"]


async def test_edit_estimate_counts_input_images(make_gateway: Any) -> None:
    gateway = await make_gateway()
    images = [ImageInput(kind="bytes", value=image_bytes(32, 32, seed=i)) for i in range(2)]
    cost = await estimate(gateway, "edit", prompt="a cat", model=SUN, size="1024x1024",
                          params={"quality": "low"}, images=images)
    assert cost == pytest.approx((2 * 5 + 2 * 765 * 8 + 272 * 30) / 1e6)


async def test_actual_edit_cost_prices_input_image_tokens(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(f"{BASE_URL}/images/edits",
                  payload=images_answer(validator, usage=gpt_usage(text=20, image_in=1000, out=4160)))
        result = await gateway.run("edit", ImageRequest(prompt="a hat", model=SUN,
                                                        images=[ImageInput(kind="bytes", value=image_bytes(32, 32))]))
    assert result.usage == {"input_text_tokens": 20, "input_image_tokens": 1000, "output_image_tokens": 4160,
                            "output_text_tokens": 0}
    assert result.cost.actual_usd == pytest.approx((20 * 5 + 1000 * 8 + 4160 * 30) / 1e6)


def test_output_tokens_are_image_tokens() -> None:
    usage = usage_from({"input_tokens": 50, "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
                        "output_tokens": 1000, "total_tokens": 1050})
    assert usage == Usage(input_text_tokens=50, output_image_tokens=1000)
    assert actual_cost(MODELS[SUN], usage) == pytest.approx((50 * 5 + 1000 * 30) / 1e6)
    assert actual_cost(MODELS["gpt-image-1-mini"], usage) == pytest.approx((50 * 2 + 1000 * 8) / 1e6)
    split = usage_from({"input_tokens": 10, "output_tokens": 300, "total_tokens": 310,
                        "output_tokens_details": {"image_tokens": 272, "text_tokens": 28}})
    assert split == Usage(input_text_tokens=10, output_image_tokens=272, output_text_tokens=28)
    assert usage_from(None) is None
