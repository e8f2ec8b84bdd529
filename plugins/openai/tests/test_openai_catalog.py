"""Every parameter is checked before the call: bad requests fail invalid_request with zero
upstream calls, through a real gateway. Also model resolution and settings."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate import ImageInput, ImageRequest
from imagegate.errors import InvalidRequest, NotFound
from imagegate_openai.testing import image_bytes
from imagegate.testing.mock_http import mock_upstream


PNG = image_bytes(64, 64)


def edit(**kwargs: Any) -> ImageRequest:
    kwargs.setdefault("images", [ImageInput(kind="bytes", value=PNG)])
    kwargs.setdefault("prompt", "change it")
    return ImageRequest(**kwargs)


@pytest.mark.parametrize(("operation", "request_", "param"), [
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", size="512x512"), "size"),
    ("generate", ImageRequest(prompt="x", model="dall-e-3", size="1024x1536"), "size"),
    ("generate", ImageRequest(prompt="x", model="dall-e-2", size="auto"), "size"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"quality": "hd"}), "quality"),
    ("generate", ImageRequest(prompt="x", model="dall-e-3", params={"quality": "high"}), "quality"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", n=11), "n"),
    ("generate", ImageRequest(prompt="x", model="dall-e-3", n=2), "n"),
    ("generate", ImageRequest(prompt="x" * 1001, model="dall-e-2"), "prompt"),
    ("generate", ImageRequest(prompt="x" * 4001, model="dall-e-3"), "prompt"),
    ("generate", ImageRequest(prompt="x" * 32001, model="gpt-image-1"), "prompt"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1",
                              params={"background": "transparent", "output_format": "jpeg"}), "output_format"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"output_compression": 50}),
     "output_compression"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1",
                              params={"output_format": "jpeg", "output_compression": 101}), "output_compression"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"response_format": "url"}),
     "response_format"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"input_fidelity": "high"}),
     "input_fidelity"),
    ("generate", ImageRequest(prompt="x", model="dall-e-3", params={"style": "anime"}), "style"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"moderation": "off"}), "moderation"),
    ("generate", ImageRequest(prompt="x", model="gpt-image-1", params={"partial_images": 4}), "partial_images"),
    ("generate", ImageRequest(prompt="x", model="dall-e-3", stream=True), "stream"),
    ("generate", ImageRequest(prompt="x", model="responses/gpt-4.1-mini", size="1792x1024"), "size"),
    ("edit", edit(model="gpt-image-1-mini", params={"input_fidelity": "high"}), "input_fidelity"),
    ("edit", edit(model="dall-e-3"), "model"),
    ("edit", edit(model="gpt-image-1", images=[ImageInput(kind="bytes", value=PNG)] * 17), "image"),
    ("edit", edit(model="dall-e-2", images=[ImageInput(kind="bytes", value=image_bytes(64, 32))]), "image"),
    ("edit", edit(model="dall-e-2", images=[ImageInput(kind="bytes", value=image_bytes(64, 64, "jpeg"))]), "image"),
    ("edit", edit(model="gpt-image-1", mask=ImageInput(kind="bytes", value=image_bytes(64, 64, "jpeg"))), "mask"),
    ("edit", edit(model="gpt-image-1", mask=ImageInput(kind="bytes", value=image_bytes(32, 32))), "mask"),
    ("variation", ImageRequest(model="gpt-image-1", images=[ImageInput(kind="bytes", value=PNG)]), "model"),
    ("variation", ImageRequest(model="dall-e-2", prompt="x", images=[ImageInput(kind="bytes", value=PNG)]),
     "prompt"),
])
async def test_invalid_requests_never_reach_openai(make_gateway: Any, operation: str, request_: ImageRequest,
                                                   param: str) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        with pytest.raises(InvalidRequest) as info:
            await gateway.run(operation, request_)
        assert not mock.requests
    assert info.value.param == param


async def test_any_responses_model_resolves(make_gateway: Any) -> None:
    gateway = await make_gateway()
    spec = await gateway.resolve_model("responses/gpt-5")
    assert (spec.id, spec.api, spec.options["mainline_model"], spec.n_param) == ("responses/gpt-5", "responses",
                                                                                "gpt-5", None)
    assert (await gateway.resolve_model("openai/responses/o3")).id == "responses/o3"
    assert (await gateway.resolve_model("openai/gpt-image-1")).id == "gpt-image-1"
    with pytest.raises(NotFound):
        await gateway.resolve_model("responses/not a model")


async def test_disabled_provider_registers_nothing(make_gateway: Any) -> None:
    gateway = await make_gateway(enabled=False)
    assert "openai" not in gateway.registry.providers
    assert not [m for m in gateway.models() if m.provider == "openai"]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagegate import Settings
    from imagegate_openai.settings import OpenAISettings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    monkeypatch.setenv("PROVIDERS__OPENAI__BASE_URL", "http://127.0.0.1:9/v1/")
    monkeypatch.setenv("PROVIDERS__OPENAI__ORGANIZATION", "org-1")
    section = Settings().provider("openai", OpenAISettings)
    assert isinstance(section, OpenAISettings)
    assert section.key() == "sk-fallback" and section.base_url == "http://127.0.0.1:9/v1"
    assert section.organization == "org-1" and "sk-fallback" not in repr(section)
    monkeypatch.setenv("PROVIDERS__OPENAI__API_KEY", "sk-primary")
    assert Settings().provider("openai", OpenAISettings).key() == "sk-primary"
