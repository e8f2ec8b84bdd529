"""Virtual keys (``imagegate keys create``) over the real HTTP server: accepted beside
GATEWAY__API_KEYS, held to their models and budget before any upstream call, and each key sees only
its own images (a key from GATEWAY__API_KEYS sees all)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from imagegate import PriceRule, Pricing
from imagegate.testing import ScriptedPlugin, ScriptedProvider, add_virtual_key, scripted_model

STATIC = "sk-operator-key-0123456789"



async def _generate(http: aiohttp.ClientSession, key: str, model: str = "priced-1") -> tuple[int, dict]:
    async with http.post("/v1/images/generations", json={"model": model, "prompt": "a kite", "size": "64x64"},
                         headers={"Authorization": f"Bearer {key}"}) as response:
        return response.status, await response.json()


@pytest.fixture
def priced() -> ScriptedPlugin:
    """A scripted model at $0.04 an image."""
    return ScriptedPlugin(ScriptedProvider("priced"), scripted_model(
        "priced-1", provider="priced", pricing=Pricing(per_image=[PriceRule(usd=0.04)], source="official")))


async def test_a_virtual_key_is_held_to_its_budget_and_models(serve, priced: ScriptedPlugin) -> None:
    served = await serve(plugins=[(priced, "priced")])
    team = await add_virtual_key(served.gateway, "team", budget_usd=0.1, budget_period="day", models=["priced-1"])
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.get("/v1/models") as response:
            assert response.status == 401  # an active virtual key turns the check on
        for _ in range(2):
            status, body = await _generate(http, team)
            assert status == 200, body
        status, body = await _generate(http, team)
        assert status == 429 and body["error"]["code"] == "quota_exceeded" and body["error"]["retryable"] is False
        assert "$0.0200 left of its $0.1 day budget" in body["error"]["message"]
        status, body = await _generate(http, team, model="placeholder")
        assert status == 403 and body["error"]["param"] == "model"
        status, body = await _generate(http, "igk_not-a-key")
        assert status == 401 and "imagegate keys create" in body["error"]["message"]
    assert len(priced.provider.calls) == 2  # refusals cost nothing
    [usage] = await served.gateway.keys.store.usage("team")
    assert (usage.spent_usd, usage.requests) == (pytest.approx(0.08), 2)


async def test_each_key_sees_only_its_images_and_an_operator_key_sees_all(serve) -> None:
    served = await serve(gateway={"api_keys": [STATIC]})
    alice, bob = await add_virtual_key(served.gateway, "alice"), await add_virtual_key(served.gateway, "bob")
    async with aiohttp.ClientSession(served.base_url) as http:
        made = {}
        for name, key in (("alice", alice), ("bob", bob)):
            status, body = await _generate(http, key, model="placeholder")
            assert status == 200, body
            made[name] = body["imagegate"]["images"][0]["id"]

        async def get(key: str, path: str, method: str = "GET") -> tuple[int, Any]:
            async with http.request(method, path, headers={"Authorization": f"Bearer {key}"}) as response:
                return response.status, await response.json()

        assert (await get(alice, f"/v1/images/{made['alice']}"))[0] == 200
        status, body = await get(alice, f"/v1/images/{made['bob']}")
        assert status == 404 and body["error"]["code"] == "not_found"
        assert (await get(alice, f"/v1/images/{made['bob']}/thumbnail?size=32"))[0] == 404
        assert (await get(alice, f"/v1/images/{made['bob']}", "DELETE"))[0] == 404
        assert [item["id"] for item in (await get(alice, "/v1/images"))[1]["data"]] == [made["alice"]]
        listed = {item["id"] for item in (await get(STATIC, "/v1/images"))[1]["data"]}
        assert listed == set(made.values())  # the operator's key sees every key's images
        assert (await get(STATIC, f"/v1/images/{made['bob']}", "DELETE"))[0] == 200
