"""Request bodies, field by field, as sent to the Images and Responses APIs (aioresponses),
each validated against OpenAI's published request schemas."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from yarl import URL

from imagegate import ImageInput, ImageRequest, hookimpl
from imagegate_openai.testing import form_fields, form_instance, image_bytes
from imagegate.testing.mock_http import mock_upstream

from .support import API_KEY, BASE_URL, b64_image, gpt_usage, images_answer

GENERATIONS = f"{BASE_URL}/images/generations"
EDITS = f"{BASE_URL}/images/edits"
RESPONSES = f"{BASE_URL}/responses"
SUN = "gpt-image-2.6-sunburst"


def sent(mock: mock_upstream, url: str, index: int = 0) -> dict[str, Any]:
    return mock.requests[("POST", URL(url))][index].kwargs


def sent_json(mock: mock_upstream, url: str) -> dict[str, Any]:
    return orjson.loads(sent(mock, url)["data"])


class TraceHeaders:
    """A plugin that injects a trace header into every upstream attempt."""

    @hookimpl
    def provider_call_wrapper(self, gateway: Any) -> Any:
        async def middleware(step: Any, call_next: Any) -> Any:
            step.outbound_headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            return await call_next()

        return middleware


async def test_generation_body_and_headers(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway(organization="org-42", project="proj_7", plugins=(TraceHeaders(),))
    with mock_upstream() as mock:
        mock.post(GENERATIONS, payload=images_answer(validator, 1, fmt="jpeg", usage=gpt_usage()))
        result = await gateway.run("generate", ImageRequest(
            prompt="a red fox", model=SUN, size="1024x1536", n=1,
            params={"quality": "high", "output_format": "jpeg", "output_compression": 55, "background": "opaque",
                    "moderation": "low", "user": "u-1"}))
        body = sent_json(mock, GENERATIONS)
        headers = sent(mock, GENERATIONS)["headers"]
    validator.check("CreateImageRequest", body)
    assert body == {"model": SUN, "prompt": "a red fox", "n": 1, "size": "1024x1536",
                    "quality": "high", "output_format": "jpeg", "output_compression": 55,
                    "background": "opaque", "moderation": "low", "safety_identifier": "u-1"}
    assert "response_format" not in body and "stream" not in body
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["OpenAI-Organization"] == "org-42"
    assert headers["OpenAI-Project"] == "proj_7"
    assert headers["Content-Type"] == "application/json"
    assert headers["traceparent"].startswith("00-0af7")
    assert result.images[0].mime_type == "image/jpeg"


async def test_minimal_generation_sends_only_what_was_given(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, payload=images_answer(validator, usage=gpt_usage()))
        await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-2.6-flare"))
        body = sent_json(mock, GENERATIONS)
    validator.check("CreateImageRequest", body)
    assert body == {"model": "gpt-image-2.6-flare", "prompt": "x", "n": 1}


async def test_url_answer_is_downloaded_at_once(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    picture = image_bytes(256, 256, seed=5)
    link = "https://files.example.com/private/img-1.png?sig=abc"
    answer = {"created": 1, "data": [{"url": link}]}
    validator.check("ImagesResponse", answer)
    with mock_upstream() as mock:
        mock.post(GENERATIONS, payload=answer)
        mock.get(link, body=picture, content_type="image/png")
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model=SUN, size="1024x1024"))
        assert ("GET", URL(link)) in mock.requests
    assert result.images[0].data == picture


async def test_single_image_edit_multipart(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    source = image_bytes(64, 64, "webp", seed=1)
    mask = image_bytes(64, 64, seed=2, transparent=True)
    with mock_upstream() as mock:
        mock.post(EDITS, payload=images_answer(validator, 2, usage=gpt_usage(image_in=765)))
        await gateway.run("edit", ImageRequest(
            prompt="add a hat", model=SUN, n=2, size="1024x1024",
            images=[ImageInput(kind="bytes", value=source)], mask=ImageInput(kind="bytes", value=mask),
            params={"quality": "medium", "input_fidelity": "low", "background": "transparent"}))
        form = sent(mock, EDITS)["data"]
        assert "Content-Type" not in sent(mock, EDITS)["headers"]
    fields = await form_fields(form)
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields] == ["image", "mask", "prompt", "model", "n", "size", "quality",
                                        "input_fidelity", "background"]
    assert (by_name["image"].value, by_name["image"].content_type) == (source, "image/webp")
    assert by_name["image"].filename.endswith(".webp")
    assert (by_name["mask"].value, by_name["mask"].content_type) == (mask, "image/png")
    assert {k: by_name[k].text for k in ("prompt", "model", "n", "size", "quality", "input_fidelity",
                                         "background")} == {
        "prompt": "add a hat", "model": SUN, "n": "2", "size": "1024x1024", "quality": "medium",
        "input_fidelity": "low", "background": "transparent"}
    validator.check("CreateImageEditRequest", form_instance(fields))


async def test_several_images_use_image_brackets(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    pictures = [image_bytes(32, 32, seed=i) for i in range(3)]
    with mock_upstream() as mock:
        mock.post(EDITS, payload=images_answer(validator, usage=gpt_usage(image_in=3 * 765)))
        await gateway.run("edit", ImageRequest(prompt="combine", model="gpt-image-2",
                                               images=[ImageInput(kind="bytes", value=p) for p in pictures]))
        fields = await form_fields(sent(mock, EDITS)["data"])
    assert [f.value for f in fields if f.name == "image[]"] == pictures
    assert not [f for f in fields if f.name == "image"]
    instance = form_instance(fields)
    assert len(instance["image"]) == 3
    validator.check("CreateImageEditRequest", instance)


async def test_markup_edit_multipart(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    source = image_bytes(64, 64, seed=1)
    markup = image_bytes(64, 64, seed=2, transparent=True)
    with mock_upstream() as mock:
        mock.post(EDITS, payload=images_answer(validator, usage=gpt_usage(image_in=765)))
        await gateway.run("edit", ImageRequest(prompt="follow the arrows", model="gpt-image-2.5-sunburst",
                                               images=[ImageInput(kind="bytes", value=source)],
                                               markup=ImageInput(kind="bytes", value=markup),
                                               params={"user": "u-2"}))
        fields = await form_fields(sent(mock, EDITS)["data"])
    assert [(f.name, f.text if f.filename is None else f.value) for f in fields] == [
        ("image", source), ("markup", markup), ("prompt", "follow the arrows"), ("model", "gpt-image-2.5-sunburst"),
        ("n", "1"), ("safety_identifier", "u-2")]
    assert {f.name: f.content_type for f in fields if f.filename} == {"image": "image/png", "markup": "image/png"}


async def test_streamed_generation(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    common = {"created_at": 1, "size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png"}
    partial = {"type": "image_generation.partial_image", "b64_json": b64_image(seed=1), "partial_image_index": 0,
               **common}
    done = {"type": "image_generation.completed", "b64_json": b64_image(seed=2), "usage": gpt_usage(out=272),
            **common}
    validator.check("ImageGenPartialImageEvent", partial)
    validator.check("ImageGenCompletedEvent", done)
    stream = b"".join(b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n" for e in (partial, done))
    seen: list[dict[str, Any]] = []
    with mock_upstream() as mock:
        mock.post(GENERATIONS, body=stream, content_type="text/event-stream")
        result = await gateway.run("generate", ImageRequest(prompt="x", model=SUN, stream=True,
                                                            params={"quality": "low", "partial_images": 1}),
                                   progress=lambda message, data: seen.append(data) if message == "partial_image" else None)
        body = sent_json(mock, GENERATIONS)
    validator.check("CreateImageRequest", body)
    assert body["stream"] is True and body["partial_images"] == 1
    assert seen == [{"index": 0, "b64_json": partial["b64_json"], "mime_type": "image/png"}]
    assert result.usage["output_image_tokens"] == 272


async def test_partial_images_not_sent_without_stream(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, payload=images_answer(validator, usage=gpt_usage()))
        await gateway.run("generate", ImageRequest(prompt="x", model=SUN, params={"partial_images": 3}))
        body = sent_json(mock, GENERATIONS)
    assert "partial_images" not in body and "stream" not in body


def response_answer(validator: Any, body: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "error": None,
        "incomplete_details": None, "instructions": None, "model": body["model"], "tools": body["tools"],
        "tool_choice": body["tool_choice"], "parallel_tool_calls": True, "metadata": {}, "temperature": 1.0,
        "top_p": 1.0, "output": [item],
        "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": 50, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 150}}
    validator.check("Response", answer)
    return answer


async def test_responses_body_and_answer(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    expected = {"model": "gpt-5", "input": "a fox in snow",
                "tools": [{"type": "image_generation", "size": "1536x1024", "quality": "high",
                           "output_format": "webp", "output_compression": 70, "background": "opaque",
                           "moderation": "low"}],
                "tool_choice": {"type": "image_generation"}, "store": False, "safety_identifier": "u-3"}
    item = {"id": "ig_1", "type": "image_generation_call", "status": "completed",
            "result": b64_image(fmt="webp"), "revised_prompt": "A fox standing in snow", "size": "1536x1024",
            "quality": "high", "output_format": "webp", "background": "opaque"}
    with mock_upstream() as mock:
        mock.post(RESPONSES, payload=response_answer(validator, expected, item))
        result = await gateway.run("generate", ImageRequest(
            prompt="a fox in snow", model="responses/gpt-5", size="1536x1024",
            params={"quality": "high", "output_format": "webp", "output_compression": 70, "background": "opaque",
                    "moderation": "low", "user": "u-3"}))
        body = sent_json(mock, RESPONSES)
    validator.check("CreateResponse", body)
    validator.check("ImageGenTool", body["tools"][0])
    assert body == expected
    assert result.model == "responses/gpt-5"
    assert result.revised_prompt == "A fox standing in snow"
    assert result.images[0].mime_type == "image/webp"
    assert result.usage == {"input_text_tokens": 100, "input_image_tokens": 0, "output_image_tokens": 6208,
                            "output_text_tokens": 50}
    assert result.cost.actual_usd == pytest.approx((100 * 1.25 + 50 * 10 + 6208 * 30) / 1e6)


@pytest.mark.parametrize(("answer_update", "error_name", "words"), [
    ({"output": [], "status": "incomplete", "incomplete_details": {"reason": "content_filter"}},
     "ContentFiltered", "content filter"),
    ({"output": [], "status": "failed",
      "error": {"code": "image_content_policy_violation", "message": "Image violates policy"}},
     "ContentFiltered", "violates policy"),
    ({"output": [{"id": "ig_1", "type": "image_generation_call", "status": "failed", "result": None}]},
     "UpstreamError", "without an image"),
    ({"output": [{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                  "content": []}]}, "UpstreamError", "without an image_generation_call"),
])
async def test_responses_without_an_image(make_gateway: Any, validator: Any, answer_update: dict[str, Any],
                                          error_name: str, words: str) -> None:
    from imagegate import _errors as errors

    gateway = await make_gateway()
    body = {"model": "gpt-4.1-mini", "tools": [{"type": "image_generation"}],
            "tool_choice": {"type": "image_generation"}}
    item = {"id": "ig_0", "type": "image_generation_call", "status": "completed", "result": b64_image()}
    answer = {**response_answer(validator, body, item), **answer_update}
    with mock_upstream() as mock:
        mock.post(RESPONSES, payload=answer)
        with pytest.raises(getattr(errors, error_name)) as info:
            await gateway.run("generate", ImageRequest(prompt="x", model="responses/gpt-4.1-mini"))
    assert words in info.value.message and not info.value.retryable


async def test_svg_options_become_the_svg_object_and_gif_never_streams(make_gateway: Any, validator: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, payload=images_answer(validator, usage=gpt_usage()), repeat=True)
        mock.post(EDITS, payload=images_answer(validator, usage=gpt_usage()))
        await gateway.run("generate", ImageRequest(prompt="a logo", model=SUN, params={
            "output_format": "svg", "svg_model": "gpt-5", "svg_reasoning_effort": "low", "user": "u-1",
            "safety_identifier": "hash-1"}))
        await gateway.run("generate", ImageRequest(prompt="a loop", model=SUN, stream=True, params={
            "output_format": "gif", "frame_count": 4, "frame_duration_ms": 120}))
        await gateway.run("edit", ImageRequest(prompt="vectorise", model=SUN,
                                               images=[ImageInput(kind="bytes", value=image_bytes(32, 32))],
                                               params={"output_format": "svg", "svg_reasoning_effort": "high"}))
        svg_body, gif_body = (orjson.loads(sent(mock, GENERATIONS, i)["data"]) for i in range(2))
        fields = await form_fields(sent(mock, EDITS)["data"])
    assert svg_body == {"model": SUN, "prompt": "a logo", "n": 1, "output_format": "svg",
                        "safety_identifier": "hash-1", "svg": {"model": "gpt-5", "reasoning": {"effort": "low"}}}
    assert gif_body == {"model": SUN, "prompt": "a loop", "n": 1, "output_format": "gif", "frame_count": 4,
                        "frame_duration_ms": 120}  # GIF output takes no stream nor partial_images
    assert [(f.name, f.text) for f in fields if f.filename is None][-2:] == [
        ("output_format", "svg"), ("svg[reasoning][effort]", "high")]


async def test_svg_effort_without_a_model_is_refused_on_generations(make_gateway: Any) -> None:
    from imagegate._errors import InvalidRequest

    gateway = await make_gateway()
    with mock_upstream() as mock:
        with pytest.raises(InvalidRequest) as info:
            await gateway.run("generate", ImageRequest(prompt="x", model=SUN, params={
                "output_format": "svg", "svg_reasoning_effort": "low"}))
        assert not mock.requests
    assert info.value.param == "svg_model" and "svg_reasoning_effort" in info.value.message
