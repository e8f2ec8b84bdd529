"""``responses/<model>``: the image_generation tool's options as model parameters, edits with input
images and a mask, and streamed partial images (aioresponses). Every body sent is checked against
the official SDK's TypedDicts (``ResponseCreateParams*``, ``tool_param.ImageGeneration``), and
every answer faked is a valid SDK ``Response``."""

from __future__ import annotations

import typing
from typing import Any

import orjson
import pybase64
import pytest
from openai.types.responses import Response
from openai.types.responses.response_create_params import (
    ResponseCreateParamsNonStreaming,
    ResponseCreateParamsStreaming,
)
from openai.types.responses.tool_param import ImageGeneration
from pydantic import TypeAdapter
from yarl import URL

from imagegate import ImageInput, ImageRequest
from imagegate._errors import InvalidRequest
from imagegate.testing.images import image_bytes
from imagegate.testing.mock_http import mock_upstream
from imagegate_openai.catalog import MAINLINE_MODELS, builtin_models, responses_model

from .support import BASE_URL

RESPONSES = f"{BASE_URL}/responses"
MODEL = "responses/gpt-5.5"


BODY = {True: TypeAdapter(ResponseCreateParamsStreaming), False: TypeAdapter(ResponseCreateParamsNonStreaming)}
TOOL = TypeAdapter(ImageGeneration)


def check_sdk_body(body: dict[str, Any]) -> None:
    """The body is exactly what the SDK's TypedDicts allow: known keys, valid values, nothing dropped
    (``tools`` is a lazily checked iterable there, so its one tool is checked on its own)."""
    streaming = bool(body.get("stream"))
    params = ResponseCreateParamsStreaming if streaming else ResponseCreateParamsNonStreaming
    assert set(body) <= set(typing.get_type_hints(params))
    validated = dict(BODY[streaming].validate_python(body))
    validated["tools"] = body["tools"]
    assert validated == body
    [tool] = body["tools"]
    assert set(tool) <= set(typing.get_type_hints(ImageGeneration))
    assert TOOL.validate_python(tool) == tool


def answer(body: dict[str, Any], *, fmt: str = "png", **item: Any) -> dict[str, Any]:
    """A completed Response holding one image_generation_call, valid for the SDK."""
    call = {"id": "ig_1", "type": "image_generation_call", "status": "completed",
            "result": pybase64.b64encode(image_bytes(32, 32, fmt)).decode(), "output_format": fmt,
            "size": "1024x1024", "quality": "low", **item}
    response = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "error": None,
        "incomplete_details": None, "instructions": None, "model": body["model"], "tools": body["tools"],
        "tool_choice": body["tool_choice"], "parallel_tool_calls": True, "metadata": {}, "temperature": 1.0,
        "top_p": 1.0, "output": [call],
        "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 25}}
    Response.model_validate(response)
    return response


def sent_body(mock: mock_upstream) -> dict[str, Any]:
    return orjson.loads(mock.requests[("POST", URL(RESPONSES))][0].kwargs["data"])


def data_url(data: bytes) -> str:
    return f"data:image/png;base64,{pybase64.b64encode(data).decode()}"


def test_todays_mainline_models_take_every_tool_option() -> None:
    assert [spec.id for spec in builtin_models() if spec.api == "responses"] == [MODEL]
    for mainline in MAINLINE_MODELS:
        spec = responses_model(mainline)
        assert spec.status == "active" and "Not a current mainline model" not in spec.description
    assert "Not a current mainline model" in responses_model("gpt-9-imaginary").description
    spec = responses_model("gpt-5.5")
    assert spec.status == "active" and spec.operations == ["generate", "edit"] and spec.mask and not spec.markup
    tool_keys = set(typing.get_type_hints(ImageGeneration)) - {"type", "model", "size", "svg", "input_image_mask"}
    assert tool_keys <= set(spec.params)
    hints = typing.get_type_hints(ImageGeneration)
    for name in ("action", "background", "moderation", "complexity"):
        assert spec.params[name].enum == list(typing.get_args(hints[name])), name
    assert spec.params["quality"].enum == ["auto", "low", "medium", "high", "xhigh", "max"]
    assert set(spec.params["output_format"].enum) == set(typing.get_args(hints["output_format"]))
    assert (spec.params["partial_images"].minimum, spec.params["partial_images"].maximum) == (0, 3)


async def test_an_old_mainline_model_is_deprecated(make_gateway: Any) -> None:
    gateway = await make_gateway()
    spec = await gateway.resolve_model("responses/gpt-4.1-mini")
    assert (spec.status, str(spec.shutdown_date), spec.replacement) == ("deprecated", "2027-01-14", MODEL)


async def test_generation_sends_every_tool_option(make_gateway: Any) -> None:
    gateway = await make_gateway()
    params = {"image_model": "gpt-image-2.5-flare", "action": "generate", "quality": "xhigh", "background": "opaque",
              "moderation": "low", "output_format": "webp", "output_compression": 80, "complexity": "high",
              "user": "u-9"}
    expected_tool = {"type": "image_generation", "model": "gpt-image-2.5-flare", "size": "1536x864",
                     "quality": "xhigh", "output_format": "webp", "output_compression": 80, "background": "opaque",
                     "moderation": "low", "complexity": "high", "action": "generate"}
    expected = {"model": "gpt-5.5", "input": "a lighthouse", "tools": [expected_tool],
                "tool_choice": {"type": "image_generation"}, "store": False, "safety_identifier": "u-9"}
    with mock_upstream() as mock:
        mock.post(RESPONSES, payload=answer(expected, fmt="webp"))
        result = await gateway.run("generate", ImageRequest(prompt="a lighthouse", model=MODEL, size="1536x864",
                                                            params=params))
        body = sent_body(mock)
    check_sdk_body(body)
    assert body == expected
    assert result.images[0].mime_type == "image/webp"


async def test_edit_sends_input_images_and_the_mask(make_gateway: Any) -> None:
    gateway = await make_gateway()
    first, second, mask = image_bytes(32, 32, seed=1), image_bytes(32, 32, seed=2), image_bytes(32, 32, seed=3)
    with mock_upstream() as mock:
        mock.post(RESPONSES, payload=answer({"model": "gpt-5.5", "tools": [{"type": "image_generation"}],
                                             "tool_choice": {"type": "image_generation"}}))
        await gateway.run("edit", ImageRequest(
            prompt="put a hat on the cat", model=MODEL,
            images=[ImageInput(kind="bytes", value=first), ImageInput(kind="bytes", value=second)],
            mask=ImageInput(kind="bytes", value=mask), params={"input_fidelity": "high"}))
        body = sent_body(mock)
    check_sdk_body(body)
    assert body["input"] == [{"role": "user", "content": [
        {"type": "input_text", "text": "put a hat on the cat"},
        {"type": "input_image", "image_url": data_url(first), "detail": "auto"},
        {"type": "input_image", "image_url": data_url(second), "detail": "auto"}]}]
    assert body["tools"] == [{"type": "image_generation", "input_fidelity": "high", "action": "edit",
                              "input_image_mask": {"image_url": data_url(mask)}}]


async def test_streamed_partial_images_reach_progress(make_gateway: Any) -> None:
    gateway = await make_gateway()
    partial = {"type": "response.image_generation_call.partial_image", "item_id": "ig_1", "output_index": 0,
               "sequence_number": 3, "partial_image_index": 0, "partial_image_b64": "cGFydGlhbA==",
               "output_format": "png"}
    body_like = {"model": "gpt-5.5", "tools": [{"type": "image_generation"}],
                 "tool_choice": {"type": "image_generation"}}
    done = {"type": "response.completed", "sequence_number": 9, "response": answer(body_like)}
    stream = b"".join(b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n"
                      for e in (partial, done))
    seen: list[dict[str, Any]] = []
    with mock_upstream() as mock:
        mock.post(RESPONSES, body=stream, content_type="text/event-stream")
        result = await gateway.run(
            "generate", ImageRequest(prompt="x", model=MODEL, stream=True, params={"partial_images": 1}),
            progress=lambda message, data: seen.append(data) if message == "partial_image" else None)
        body = sent_body(mock)
    check_sdk_body(body)
    assert body["stream"] is True and body["tools"][0]["partial_images"] == 1
    assert seen == [{"index": 0, "b64_json": "cGFydGlhbA==", "mime_type": "image/png"}]
    assert len(result.images) == 1 and result.usage["output_image_tokens"] == 272


async def test_partial_images_not_sent_without_stream(make_gateway: Any) -> None:
    gateway = await make_gateway()
    body_like = {"model": "gpt-5.5", "tools": [{"type": "image_generation"}],
                 "tool_choice": {"type": "image_generation"}}
    with mock_upstream() as mock:
        mock.post(RESPONSES, payload=answer(body_like))
        await gateway.run("generate", ImageRequest(prompt="x", model=MODEL, params={"partial_images": 2}))
        body = sent_body(mock)
    assert "stream" not in body and "partial_images" not in body["tools"][0]


@pytest.mark.parametrize(("operation", "params", "param", "words"), [
    ("generate", {"action": "draw"}, "action", "generate, edit, auto"),
    ("generate", {"quality": "ultra"}, "quality", "xhigh"),
    ("generate", {"partial_images": 4}, "partial_images", "3"),
    ("generate", {"image_model": "gpt-image-1"}, "image_model", "gpt-image-2.6-sunburst"),
    ("generate", {"image_model": "gpt-image-2", "quality": "max"}, "quality", "low, medium, high"),
    ("generate", {"output_format": "gif", "partial_images": 1}, "partial_images", "gif"),
    ("generate", {"action": "edit"}, "action", "edit operation"),
    ("edit", {"output_format": "gif"}, "mask", "gif"),
])
async def test_bad_options_are_refused_before_any_call(make_gateway: Any, operation: str, params: dict[str, Any],
                                                       param: str, words: str) -> None:
    gateway = await make_gateway()
    images = [ImageInput(kind="bytes", value=image_bytes(32, 32))] if operation == "edit" else []
    mask = ImageInput(kind="bytes", value=image_bytes(32, 32)) if operation == "edit" else None
    with mock_upstream() as mock, pytest.raises(InvalidRequest) as info:
        await gateway.run(operation, ImageRequest(prompt="x", model=MODEL, images=images, mask=mask, params=params))
    assert not mock.requests
    assert info.value.param == param and words in info.value.message
