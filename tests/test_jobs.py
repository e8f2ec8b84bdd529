"""A job is built once per request: the model resolved once, delivery choices fixed in one object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagegate._jobs import Delivery
from imagegate._models import ImageRequest
from imagegate.testing import FakeSleep

from .pipeline_support import Scripted, fake_spec, make


class Resolving(Scripted):
    """Serves a model the catalog does not list, resolved on demand (like ``replicate/owner/name``)."""

    def __init__(self) -> None:
        super().__init__()
        self.resolved: list[str] = []

    async def resolve(self, model_id: str, session: Any) -> Any:
        self.resolved.append(model_id)
        return fake_spec(id=model_id) if model_id.startswith("dyn/") else None


async def test_a_model_outside_the_catalog_is_resolved_once_per_request(tmp_path: Path) -> None:
    provider = Resolving()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        result = await gateway.run("generate", ImageRequest(prompt="x", model="dyn/thing"))
    finally:
        await gateway.aclose()
    assert result.model == "dyn/thing" and provider.resolved == ["dyn/thing"]


async def test_delivery_choices_reach_the_provider_and_progress(tmp_path: Path) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    seen: list[str] = []
    try:
        await gateway.run("generate", ImageRequest(prompt="x", model="fake-model", n=2), frontend="mcp",
                          keep_base64=True, progress=lambda message, data: seen.append(message),
                          carrier={"traceparent": "00-abc"})
        stored = await gateway.list()
    finally:
        await gateway.aclose()
    call = provider.calls[0]
    assert call.keep_base64 is True
    call.progress("custom", {})
    assert seen == ["custom"] and stored[0]["frontend"] == "mcp"


def test_delivery_is_frozen_and_defaults_to_no_progress() -> None:
    delivery = Delivery()
    assert (delivery.frontend, delivery.keep_base64, delivery.trusted_paths, delivery.carrier) == ("api", False, False, {})
    with pytest.raises(AttributeError):
        delivery.keep_base64 = True  # type: ignore[misc]
