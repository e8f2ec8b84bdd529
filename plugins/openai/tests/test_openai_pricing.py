"""Costs general gateways get wrong: auto quality and size, input-image tokens on edits, and
output tokens priced as image tokens (not text tokens)."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate import ImageInput, ImageRequest
from imagegate.pricing import Usage, actual_cost
from imagegate_openai.catalog import builtin_models, image_output_tokens
from imagegate_openai.results import usage_from
from imagegate_openai.testing import image_bytes
from imagegate.testing.mock_http import mock_upstream

from .conftest import BASE_URL, gpt_usage, images_answer

MODELS = {spec.id: spec for spec in builtin_models()}


async def estimate(gateway: Any, operation: str, **kwargs: Any) -> float:
    result = await gateway.estimate(operation, ImageRequest(**kwargs))
    return result["cost"]["estimated_usd"]


async def test_auto_quality_and_size_estimate_the_dearest(make_gateway: Any) -> None:
    gateway = await make_gateway()
    prompt_cost = (len("a cat") // 4 + 1) * 5 / 1e6
    assert await estimate(gateway, "generate", prompt="a cat", model="gpt-image-1") == pytest.approx(
        prompt_cost + 6240 * 40 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model="gpt-image-1", size="1024x1024") == \
        pytest.approx(prompt_cost + 4160 * 40 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model="gpt-image-1",
                          params={"quality": "low"}) == pytest.approx(prompt_cost + 408 * 40 / 1e6)
    assert await estimate(gateway, "generate", prompt="a cat", model="gpt-image-1", n=3, size="1024x1024",
                          params={"quality": "medium"}) == pytest.approx(prompt_cost + 3 * 1056 * 40 / 1e6)
    assert image_output_tokens("auto", "auto") == 6240 and image_output_tokens(None, None) == 6240


async def test_edit_estimate_counts_input_images(make_gateway: Any) -> None:
    gateway = await make_gateway()
    images = [ImageInput(kind="bytes", value=image_bytes(32, 32, seed=i)) for i in range(2)]
    cost = await estimate(gateway, "edit", prompt="a cat", model="gpt-image-1", size="1024x1024",
                          params={"quality": "low"}, images=images)
    assert cost == pytest.approx((2 * 5 + 2 * 765 * 10 + 272 * 40) / 1e6)


async def test_actual_edit_cost_prices_input_image_tokens(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(f"{BASE_URL}/images/edits",
                  payload=images_answer(validator, usage=gpt_usage(text=20, image_in=1000, out=4160)))
        result = await gateway.run("edit", ImageRequest(prompt="a hat", model="gpt-image-1",
                                                        images=[ImageInput(kind="bytes", value=image_bytes(32, 32))]))
    assert result.usage == {"input_text_tokens": 20, "input_image_tokens": 1000, "output_image_tokens": 4160,
                            "output_text_tokens": 0}
    assert result.cost.actual_usd == pytest.approx((20 * 5 + 1000 * 10 + 4160 * 40) / 1e6)


def test_output_tokens_are_image_tokens() -> None:
    usage = usage_from({"input_tokens": 50, "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
                        "output_tokens": 1000, "total_tokens": 1050})
    assert usage == Usage(input_text_tokens=50, output_image_tokens=1000)
    assert actual_cost(MODELS["gpt-image-1"], usage) == pytest.approx((50 * 5 + 1000 * 40) / 1e6)
    assert actual_cost(MODELS["gpt-image-1-mini"], usage) == pytest.approx((50 * 2 + 1000 * 8) / 1e6)
    split = usage_from({"input_tokens": 10, "output_tokens": 300, "total_tokens": 310,
                        "output_tokens_details": {"image_tokens": 272, "text_tokens": 28}})
    assert split == Usage(input_text_tokens=10, output_image_tokens=272, output_text_tokens=28)
    assert usage_from(None) is None


@pytest.mark.parametrize(("model", "size", "params", "n", "usd"), [
    ("dall-e-3", None, {}, 1, 0.04),
    ("dall-e-3", "1792x1024", {"quality": "hd"}, 1, 0.12),
    ("dall-e-3", "1024x1792", {"quality": "standard"}, 1, 0.08),
    ("dall-e-2", "256x256", {}, 4, 0.064),
    ("dall-e-2", None, {}, 2, 0.04),
])
async def test_dall_e_per_image_prices(make_gateway: Any, model: str, size: str | None, params: dict[str, Any],
                                       n: int, usd: float) -> None:
    gateway = await make_gateway()
    assert await estimate(gateway, "generate", prompt="x", model=model, size=size, n=n,
                          params=params) == pytest.approx(usd)


async def test_dall_e_actual_cost_is_the_per_image_price(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(f"{BASE_URL}/images/generations", payload=images_answer(validator, 2, fmt=None))
        result = await gateway.run("generate", ImageRequest(prompt="x", model="dall-e-2", n=2, size="512x512"))
    assert result.usage is None
    assert result.cost.estimated_usd == pytest.approx(0.036)
    assert result.cost.actual_usd == pytest.approx(0.036)
