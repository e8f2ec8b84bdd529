"""The fake OpenAI itself: it catches what today's API does not take and answers as it does
(checked through the official SDK client, which parses every answer into its own types)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pybase64
import pytest
from defusedxml import ElementTree
from PIL import Image

from imagegate_openai.fake_answers import answer_problems
from imagegate_openai.fake_requests import RequestChecker, form_instance
from imagegate_openai.testing import FakeOpenAI, FormField, image_bytes

from .support import API_KEY

MODEL = "gpt-image-2"


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[Any]:
    from openai import AsyncOpenAI

    async with AsyncOpenAI(api_key=API_KEY, base_url=fake.base_url, max_retries=0) as sdk:
        yield sdk


@pytest.mark.parametrize(("body", "problem"), [
    ({"prompt": "p", "model": MODEL, "style": "vivid"}, "style: Unknown parameter: 'style'. (HTTP 400)"),
    ({"prompt": "p", "model": MODEL, "response_format": "url"}, "response_format: Unknown parameter"),
    ({"prompt": "p", "model": MODEL, "colour": "red"}, "colour: Extra inputs are not permitted (SDK)"),
    ({"prompt": "p", "model": MODEL, "colour": "red"}, "Additional properties are not allowed ('colour'"),
    ({"prompt": "p", "model": MODEL, "svg": {"model": "m", "depth": 2}, "output_format": "svg"},
     "svg/depth: Extra inputs are not permitted (SDK)"),
    ({"prompt": "p", "model": MODEL, "n": 11}, "n: 11 is not valid under any of the given schemas (2026 schema)"),
    ({"prompt": "p", "model": MODEL, "quality": "max"}, "quality: Invalid value: 'max'"),
    ({"prompt": "p", "model": "gpt-image-2.6-sunburst", "output_format": "gif", "output_compression": 50},
     "output_compression is not supported with output_format 'gif'"),
    ({"prompt": "p", "model": "gpt-image-2.6-sunburst", "output_format": "svg", "n": 2},
     "n is not supported with output_format 'svg'"),
])
async def test_what_the_api_does_not_take_is_caught(fake: FakeOpenAI, client: Any, body: dict[str, Any],
                                                    problem: str) -> None:
    from openai import BadRequestError

    with pytest.raises(BadRequestError):  # the fake refuses like the API (or the SDK check catches it)
        await client.post("/images/generations", body=body, cast_to=dict)
    assert any(problem in p for p in fake.schema_errors), fake.schema_errors
    with pytest.raises(AssertionError):
        fake.assert_valid()


async def test_unknown_parameters_are_answered_as_openai_does(fake: FakeOpenAI, client: Any) -> None:
    from openai import BadRequestError

    with pytest.raises(BadRequestError) as caught:
        await client.images.generate(prompt="p", model=MODEL, extra_body={"svg": {"model": "m", "depth": 2}},
                                     output_format="svg")
    assert caught.value.body == {"message": "Unknown parameter: 'svg.depth'.", "type": "invalid_request_error",
                                 "param": "svg.depth", "code": "unknown_parameter"}


async def test_unknown_key_inside_the_responses_image_tool_is_caught(fake: FakeOpenAI, client: Any) -> None:
    await client.responses.create(model="gpt-4.1-mini", input="a fox",
                                  tools=[{"type": "image_generation", "size": "1024x1024"}])
    fake.assert_valid()
    from openai import BadRequestError

    with pytest.raises(BadRequestError):
        await client.post("/responses", cast_to=dict, body={
            "model": "gpt-4.1-mini", "input": "a fox", "tools": [{"type": "image_generation", "n": 2}]})
    assert any(p.startswith("POST /v1/responses: tools/0/n: Extra inputs") for p in fake.schema_errors)


async def test_a_valid_sdk_request_passes(fake: FakeOpenAI, client: Any) -> None:
    answer = await client.images.generate(prompt="a kite", model=MODEL, size="1536x864", quality="high",
                                          safety_identifier="u-1")
    fake.assert_valid()
    assert answer.size == "1536x864" and answer.safety_identifier == "u-1"
    assert answer.usage.output_tokens_details.image_tokens == answer.usage.output_tokens
    assert Image.open(io.BytesIO(pybase64.b64decode(answer.data[0].b64_json))).size == (1536, 864)


@pytest.mark.parametrize("model", ["dall-e-3", "dall-e-2", "gpt-image-1", "gpt-image-1-mini"])
async def test_retired_models_answer_404_model_not_found(fake: FakeOpenAI, client: Any, model: str) -> None:
    from openai import NotFoundError

    with pytest.raises(NotFoundError) as caught:
        await client.images.generate(prompt="x", model=model)
    assert caught.value.body == {
        "message": f"The model `{model}` has been deprecated, learn more here: "
                   "https://platform.openai.com/docs/deprecations",
        "type": "invalid_request_error", "param": None, "code": "model_not_found"}


async def test_variations_endpoint_is_gone(fake: FakeOpenAI, client: Any) -> None:
    from openai import NotFoundError

    with pytest.raises(NotFoundError) as caught, pytest.warns(DeprecationWarning):
        await client.images.create_variation(image=("a.png", image_bytes(64, 64), "image/png"))
    assert caught.value.body["message"] == "Invalid URL (POST /v1/images/variations)"


async def test_gif_answer_is_an_animated_gif(fake: FakeOpenAI, client: Any) -> None:
    answer = await client.images.generate(prompt="a spinning coin", model="gpt-image-2.6-sunburst",
                                          size="1024x1024", output_format="gif", frame_count=5,
                                          frame_duration_ms=120)
    fake.assert_valid()
    gif = Image.open(io.BytesIO(pybase64.b64decode(answer.data[0].b64_json)))
    assert (gif.format, gif.n_frames, gif.info["duration"], answer.output_format) == ("GIF", 5, 120, "gif")


async def test_svg_answer_is_svg_with_svg_usage(fake: FakeOpenAI, client: Any) -> None:
    answer = await client.images.generate(prompt="a logo", model="gpt-image-2.6-sunburst", output_format="svg",
                                          svg={"model": "gpt-5.2", "reasoning": {"effort": "low"}})
    fake.assert_valid()
    root = ElementTree.fromstring(pybase64.b64decode(answer.data[0].b64_json))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "1024"
    assert answer.svg_usage.model == "gpt-5.2" and answer.svg_usage.reasoning_tokens > 0
    assert answer.svg_usage.total_tokens == answer.svg_usage.input_tokens + answer.svg_usage.output_tokens


async def test_edit_form_is_checked_with_nested_svg_fields(fake: FakeOpenAI, client: Any) -> None:
    await client.images.edit(image=[("a.png", image_bytes(64, 64), "image/png"),
                                    ("b.png", image_bytes(64, 64, seed=2), "image/png")],
                             prompt="merge", model="gpt-image-2.6-sunburst", output_format="svg",
                             svg={"reasoning": {"effort": "minimal"}})
    fake.assert_valid()
    body = fake.calls[-1].body
    assert body["svg"] == {"reasoning": {"effort": "minimal"}} and len(body["image"]) == 2


async def test_streamed_events_parse_as_the_sdks_events(fake: FakeOpenAI, client: Any) -> None:
    stream = await client.images.generate(prompt="a boat", model=MODEL, stream=True, partial_images=2)
    kinds = [event.type async for event in stream]
    fake.assert_valid()
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]


def test_form_instance_nests_brackets_and_lists() -> None:
    parts = [FormField("image[]", b"12", "a.png", "image/png"), FormField("image[]", b"3", "b.png", "image/png"),
             FormField("svg[reasoning][effort]", b"low"), FormField("n", b"1"), FormField("stream", b"false")]
    assert form_instance(parts) == {"image": ["<2 bytes image/png>", "<1 bytes image/png>"],
                                    "svg": {"reasoning": {"effort": "low"}}, "n": 1, "stream": False}


def test_answer_fields_the_sdk_does_not_know_are_problems() -> None:
    assert answer_problems("images", {"created": 1, "data": [{"b64_json": "x", "seed": 3}]}) == [
        "answer images: data/0/seed: not a field of the SDK's Image"]
    assert answer_problems("images", {"created": "soon"})


def test_checker_without_schemas_still_checks_the_sdk_types(request_schemas: Path) -> None:
    assert RequestChecker().problems("generate", {"prompt": "p", "n": 11}) == []
    assert RequestChecker(request_schemas).problems("generate", {"prompt": "p", "n": 11})
    assert RequestChecker().problems("edit", {"prompt": "p"}) != []  # image is required


async def test_responses_svg_call_carries_svg_usage_of_the_outer_model(fake: FakeOpenAI, client: Any) -> None:
    response = await client.responses.create(model="gpt-5.2", input="a logo",
                                             tools=[{"type": "image_generation", "output_format": "svg"}])
    fake.assert_valid()
    (call,) = response.output
    assert call.type == "image_generation_call" and call.svg_usage.model == "gpt-5.2"
    assert ElementTree.fromstring(pybase64.b64decode(call.result)).tag == "{http://www.w3.org/2000/svg}svg"
