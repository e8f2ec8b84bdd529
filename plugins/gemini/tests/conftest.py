"""Fixtures: the loopback Gemini fake and gateways wired to it (only public imagegate names)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from .support import KEY


@pytest.fixture(autouse=True)
def _no_key_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "PROVIDERS__GEMINI__API_KEY", "PROVIDERS__GEMINI__BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[Any]:
    from imagegate_gemini.testing import FakeGemini

    async with FakeGemini(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_gateway(imagegate_make_gateway: Any, fake: Any) -> Callable[..., Awaitable[Any]]:
    """``await make_gateway(models=overrides, **gemini_settings)``: a gateway whose gemini provider talks to ``fake``."""
    import imagegate_gemini

    async def make(models: dict[str, Any] | None = None, **section: Any) -> Any:
        settings = {"api_key": KEY, "base_url": fake.base_url, "max_retries": 0, **section}
        return await imagegate_make_gateway(imagegate_gemini, providers={"gemini": settings}, models=models or {})

    return make


@pytest.fixture
async def gateway(make_gateway: Any) -> Any:
    return await make_gateway()
