"""``imagegate.testing.ScriptedProvider`` through the real pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate import ImageRequest, InvalidRequest, RateLimited, hookimpl
from imagegate.testing import ScriptedProvider, scripted_model


class _Plugin:
    def __init__(self, provider: ScriptedProvider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register.add_provider(self.provider)
        register.add_model(scripted_model())


async def test_scripted_failure_is_retried_then_real_pngs_are_stored(imagegate_make_gateway: Any,
                                                                      imagegate_fake_sleep: Any) -> None:
    provider = ScriptedProvider().script(RateLimited("busy", retry_after=4))
    gateway = await imagegate_make_gateway(("scripted", _Plugin(provider)))
    result = await gateway.generate(ImageRequest(model="scripted-1", prompt="p", size="96x48", n=2))
    assert len(provider.calls) == 2 and imagegate_fake_sleep.delays == [4.0]
    assert [(image.width, image.height) for image in result.images] == [(96, 48), (96, 48)]
    assert result.images[0].sha256 != result.images[1].sha256


async def test_a_final_error_is_not_retried(imagegate_make_gateway: Any) -> None:
    provider = ScriptedProvider().script(InvalidRequest("nope", param="prompt"))
    gateway = await imagegate_make_gateway(("scripted", _Plugin(provider)))
    with pytest.raises(InvalidRequest):
        await gateway.generate(ImageRequest(model="scripted-1", prompt="p"))
    assert len(provider.calls) == 1


async def test_a_key_error_stops_before_any_attempt(imagegate_make_gateway: Any) -> None:
    from imagegate import AuthenticationError

    provider = ScriptedProvider(key_error=AuthenticationError("set SCRIPTED_KEY"))
    gateway = await imagegate_make_gateway(("scripted", _Plugin(provider)))
    with pytest.raises(AuthenticationError, match="SCRIPTED_KEY"):
        await gateway.generate(ImageRequest(model="scripted-1", prompt="p"))
    assert provider.calls == []
