"""The fake speaks the real wire format: Google's own SDK (google-genai 3.3.0), pointed at it, generates,
edits and receives its errors; and what imagegate sends is what the SDK would send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from imagegate import ImageInput, ImageRequest
from imagegate.testing import image_bytes

from .support import KEY


async def _generate(fake: Any, key: str = KEY, **arguments: Any) -> types.GenerateContentResponse:
    """The SDK's synchronous client (its aiohttp path does not run on the pinned aiohttp), in a
    worker thread so the fake keeps answering on this event loop."""
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=fake.root_url, api_version="v1beta"))
    try:
        return await asyncio.to_thread(client.models.generate_content, **arguments)
    finally:
        client.close()


async def test_the_official_sdk_generates_and_edits_against_the_fake(fake: Any) -> None:
    fake.text = "A cat, as asked."
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K"))
    reference = image_bytes(24, 24, seed=5)
    contents = ["make the cat orange", types.Part.from_bytes(data=reference, mime_type="image/png")]
    answer = await _generate(fake, model="gemini-nano-banana-2.1", contents=contents, config=config)
    fake.assert_valid()
    parts = answer.candidates[0].content.parts
    assert parts[0].text == "A cat, as asked."
    assert parts[1].inline_data.mime_type == "image/png" and parts[1].inline_data.data.startswith(b"\x89PNG")
    assert answer.usage_metadata.candidates_tokens_details[0].token_count == 1680
    (call,) = fake.calls
    assert call.body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert _content(call.body).parts[1].inline_data.data == reference


async def test_imagegate_sends_what_the_sdk_sends(fake: Any, gateway: Any) -> None:
    reference = image_bytes(24, 24, seed=5)
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="3:4", image_size="1K"))
    await _generate(
        fake, model="gemini-3-pro-image", config=config,
        contents=["a poster", types.Part.from_bytes(data=reference, mime_type="image/png")])
    await gateway.run("edit", ImageRequest(model="gemini-3-pro-image", prompt="a poster",
                                           params={"aspect_ratio": "3:4", "image_size": "1K"},
                                           images=[ImageInput(kind="bytes", value=reference)]))
    fake.assert_valid()
    by_sdk, by_gateway = (call.body for call in fake.calls)
    # the SDK writes inlineData's mime_type in snake case and base64url; both read the same
    assert _content(by_gateway) == _content(by_sdk)
    assert by_gateway["generationConfig"] == by_sdk["generationConfig"]
    assert fake.calls[0].path == fake.calls[1].path


def _content(body: dict[str, Any]) -> types.Content:
    (content,) = body["contents"]
    return types.Content.model_validate_json(json.dumps(content))


@pytest.mark.parametrize(("arrange", "status", "sdk_error"), [
    (lambda fake: fake.rate_limit("2s"), 429, errors.ClientError),
    (lambda fake: fake.error(503, "The model is overloaded."), 503, errors.ServerError),
])
async def test_the_sdk_reads_the_fakes_errors(fake: Any, arrange: Any, status: int, sdk_error: type) -> None:
    arrange(fake)
    with pytest.raises(sdk_error) as caught:
        await _generate(fake, model="gemini-nano-banana-2.1", contents="a cat")
    assert caught.value.code == status and caught.value.status in ("RESOURCE_EXHAUSTED", "UNAVAILABLE")


async def test_the_sdk_reads_a_wrong_key_answer(fake: Any) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await _generate(fake, "AIzaSyWRONG_0000000000000000000000000", model="gemini-nano-banana-2.1",
                        contents="a cat")
    assert caught.value.code == 400 and caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


async def test_the_sdk_reads_a_blocked_prompt(fake: Any) -> None:
    fake.block_prompt("IMAGE_SAFETY")
    answer = await _generate(fake, model="gemini-nano-banana-2.1", contents="x")
    assert answer.prompt_feedback.block_reason == types.BlockedReason.IMAGE_SAFETY
    assert not answer.candidates
