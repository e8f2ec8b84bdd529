"""Price provenance over HTTP: an answer priced from unofficial figures says
``"cost": {..., "unofficial": true}`` in its ``imagegate`` field; ``/v1/models`` names each model's
``price_source``."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate.testing import ScriptedPlugin


@pytest.fixture
async def priced(serve: Any) -> Any:
    return await serve(plugins=[(ScriptedPlugin.priced_by_source(), "priced")])


async def test_an_unofficial_price_is_flagged_in_the_answer(priced: Any) -> None:
    client = priced.client()
    flagged = await client.images.generate(model="unofficial-1", prompt="x", size="64x64")
    plain = await client.images.generate(model="official-1", prompt="x", size="64x64")
    assert flagged.model_extra["imagegate"]["cost"] == {"estimated_usd": 0.05, "actual_usd": None, "unofficial": True}
    assert "unofficial" not in plain.model_extra["imagegate"]["cost"]


async def test_models_name_their_price_source(priced: Any) -> None:
    listed = {model.id: model.model_extra for model in (await priced.client().models.list()).data}
    assert listed["unofficial-1"]["price_source"] == "unofficial"
    assert listed["official-1"]["price_source"] == "official"
    assert listed["placeholder"]["price_source"] == "unknown"
