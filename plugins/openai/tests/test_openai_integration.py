"""The whole pipeline (Gateway and CLI) against a loopback server that answers like OpenAI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagegate import ImageInput, ImageRequest
from imagegate_openai.testing import FakeOpenAI, image_bytes, serve_in_thread

from .support import API_KEY

SUN = "gpt-image-2.6-sunburst"


def _stored(result: Any) -> list[Image.Image]:
    return [Image.open(image.path) for image in result.images]


async def test_generate_gpt_image_stores_real_images(make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(
        prompt="a lighthouse", model=SUN, size="1536x1024", n=2,
        params={"quality": "low", "output_format": "webp", "output_compression": 80}))
    assert fake.schema_errors == []
    assert fake.call_count == 1
    call = fake.calls[0]
    assert call.path == "/v1/images/generations"
    assert call.authorized
    assert "Authorization" not in call.headers
    assert call.body == {"model": SUN, "prompt": "a lighthouse", "n": 2, "size": "1536x1024",
                         "quality": "low", "output_format": "webp", "output_compression": 80}
    images = _stored(result)
    assert [(im.format, im.size) for im in images] == [("WEBP", (1536, 1024))] * 2
    assert result.usage["output_image_tokens"] == 800
    assert result.usage["input_text_tokens"] == 4
    assert result.cost.actual_usd == pytest.approx((4 * 5 + 800 * 30) / 1e6)
    assert result.cost.estimated_usd == pytest.approx((4 * 5 + 2 * 400 * 30) / 1e6)
    metadata = json.loads(Path(result.images[0].path).with_suffix(".json").read_text())
    assert metadata["cost"] == {"estimated_usd": result.cost.estimated_usd, "actual_usd": result.cost.actual_usd}


async def test_edit_with_several_images_and_mask(make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(fake.base_url)
    first, second = image_bytes(64, 64, seed=1), image_bytes(64, 64, "jpeg", seed=2)
    mask = image_bytes(64, 64, seed=3, transparent=True)
    result = await gateway.run("edit", ImageRequest(
        prompt="put them in a basket", model=SUN, size="1024x1024",
        images=[ImageInput(kind="bytes", value=first), ImageInput(kind="bytes", value=second)],
        mask=ImageInput(kind="bytes", value=mask), params={"input_fidelity": "high"}))
    assert fake.schema_errors == []
    call = fake.calls[0]
    assert call.path == "/v1/images/edits"
    names = [part.name for part in call.form]
    assert names.count("image[]") == 2 and names.count("mask") == 1
    files = {part.name + str(i): part for i, part in enumerate(call.form) if part.filename}
    assert [p.value for p in files.values()] == [first, second, mask]
    assert call.body["input_fidelity"] == "high" and "response_format" not in call.body
    assert result.usage["input_image_tokens"] == 2 * 765
    assert result.cost.actual_usd == pytest.approx(
        (result.usage["input_text_tokens"] * 5 + 1530 * 8 + result.usage["output_image_tokens"] * 30) / 1e6)


async def test_responses_mode_fans_out(make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(
        prompt="a fox", model="responses/gpt-4.1-mini", n=2, size="1024x1024", params={"quality": "low"}))
    assert fake.schema_errors == []
    assert [c.path for c in fake.calls] == ["/v1/responses"] * 2
    assert fake.calls[0].body["tool_choice"] == {"type": "image_generation"}
    assert len(result.images) == 2
    assert result.revised_prompt == "An image of: a fox"


async def test_streaming_reports_partial_images(make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(fake.base_url)
    seen: list[tuple[str, dict[str, Any]]] = []
    result = await gateway.run("generate", ImageRequest(
        prompt="a boat", model=SUN, size="1024x1024", stream=True, params={"partial_images": 2}),
        progress=lambda message, data: seen.append((message, data)))
    assert fake.schema_errors == []
    assert fake.calls[0].body["stream"] is True and fake.calls[0].body["partial_images"] == 2
    partials = [data for message, data in seen if message == "partial_image"]
    assert [p["index"] for p in partials] == [0, 1]
    assert all(p["mime_type"] == "image/png" and p["b64_json"] for p in partials)
    assert len(result.images) == 1 and result.usage["output_image_tokens"] == 1056


async def test_retry_after_is_honoured(make_gateway: Any, fake: FakeOpenAI, fake_sleep: Any) -> None:
    gateway = await make_gateway(fake.base_url)
    fake.fail_with(429, {"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                                   "code": "rate_limit_exceeded"}}, {"Retry-After": "7"})
    result = await gateway.run("generate", ImageRequest(prompt="x", model=SUN))
    assert fake.call_count == 2
    assert fake_sleep.delays == [7.0]
    assert len(result.images) == 1


def test_cli_generate_and_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request_schemas: Path) -> None:
    from click.testing import CliRunner

    from imagegate.cli._app import build_cli

    with serve_in_thread(request_schemas=request_schemas, api_key=API_KEY) as fake:
        for name, value in {"PROVIDERS__OPENAI__BASE_URL": fake.base_url, "PROVIDERS__OPENAI__API_KEY": API_KEY,
                            "STORAGE__LOCAL__ROOT": str(tmp_path / "images"),
                            "STORAGE__SPOOL_DIR": str(tmp_path / "spool")}.items():
            monkeypatch.setenv(name, value)
        source = tmp_path / "in.png"
        source.write_bytes(image_bytes(256, 256, seed=9))
        cli = build_cli()
        runner = CliRunner()
        outputs = []
        markup = tmp_path / "markup.png"
        markup.write_bytes(image_bytes(256, 256, seed=3, transparent=True))
        for args in (["generate", "a kite", "-m", SUN, "--param", "quality=low", "-n", "2"],
                     ["edit", str(source), "--prompt", "add a sun", "-m", SUN, "--markup", str(markup)]):
            run = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
            assert run.exit_code == 0, run.output
            outputs.append(json.loads(run.stdout))
        assert fake.schema_errors == []
        assert [c.path for c in fake.calls] == ["/v1/images/generations", "/v1/images/edits"]
        assert [p.value for p in fake.calls[1].form if p.name == "markup"] == [markup.read_bytes()]
        assert [len(o["images"]) for o in outputs] == [2, 1]
        assert all(Path(image["path"]).exists() for o in outputs for image in o["images"])
        assert outputs[0]["cost"]["actual_usd"] is not None
        assert API_KEY not in json.dumps(outputs)


async def test_hanging_upstream_times_out(make_gateway: Any, fake: FakeOpenAI) -> None:
    from imagegate._errors import Timeout

    gateway = await make_gateway(fake.base_url, timeout_s=0.2)
    fake.hang()
    with pytest.raises(Timeout):
        await gateway.run("generate", ImageRequest(prompt="x", model=SUN))
    assert fake.call_count == 1


async def test_wrong_key_is_refused_without_leaking(make_gateway: Any, fake: FakeOpenAI) -> None:
    from imagegate._errors import AuthenticationError

    gateway = await make_gateway(fake.base_url, api_key="sk-wrong-key-987654321")
    with pytest.raises(AuthenticationError) as info:
        await gateway.run("generate", ImageRequest(prompt="x", model=SUN))
    assert "987654321" not in str(info.value.to_dict())
    assert fake.call_count == 1 and not fake.calls[0].authorized


async def test_list_upstream_models_reads_shutdown_dates(make_gateway: Any, fake: FakeOpenAI) -> None:
    from openai.types import Model

    from imagegate_openai.catalog import CURRENT_MODELS

    gateway = await make_gateway(fake.base_url)
    provider = gateway.registry.providers["openai"]
    listed = await provider.list_upstream_models(gateway.session)
    assert listed == [{"id": model_id, "shutdown_date": None} for model_id in CURRENT_MODELS]
    fake.upstream_models = [{"id": "gpt-image-2", "shutdown_date": "2027-06-01"}]
    assert await provider.list_upstream_models(gateway.session) == [{"id": "gpt-image-2",
                                                                     "shutdown_date": "2027-06-01"}]
    assert fake.calls[-1].path == "/v1/models" and fake.calls[-1].authorized
    Model.model_validate({"id": "gpt-image-2", "object": "model", "created": 1, "owned_by": "system",
                          "shutdown_date": "2027-06-01"})


async def test_gif_output_is_stored_as_an_animated_gif(make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(
        prompt="a spinning coin", model=SUN, size="1024x1024", stream=True,
        params={"output_format": "gif", "frame_count": 4, "frame_duration_ms": 150}))
    fake.assert_valid()
    assert "stream" not in fake.calls[0].body  # GIF never streams
    image = result.images[0]
    assert image.mime_type == "image/gif" and image.path.endswith(".gif")
    gif = Image.open(image.path)
    assert (gif.format, gif.n_frames, gif.info["duration"]) == ("GIF", 4, 150)


async def test_svg_output_is_stored_as_clean_svg(make_gateway: Any, fake: FakeOpenAI) -> None:
    from defusedxml import ElementTree

    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(
        prompt="a logo <script>", model=SUN, params={"output_format": "svg", "svg_model": "gpt-5.2",
                                                      "svg_reasoning_effort": "low"}))
    fake.assert_valid()
    assert fake.calls[0].body["svg"] == {"model": "gpt-5.2", "reasoning": {"effort": "low"}}
    image = result.images[0]
    assert image.mime_type == "image/svg+xml" and image.path.endswith(".svg")
    root = ElementTree.fromstring(Path(image.path).read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and (image.width, image.height) == (1024, 1024)


async def test_retired_model_answers_404_model_not_found(make_gateway: Any, fake: FakeOpenAI) -> None:
    from imagegate._errors import ImagegateError

    from imagegate_openai.catalog import current_model

    gateway = await make_gateway(fake.base_url)
    spec = current_model(SUN).model_copy(update={"id": "gpt-image-1", "upstream": "gpt-image-1"})
    gateway.registry.models["gpt-image-1"] = spec
    with pytest.raises(ImagegateError) as caught:
        await gateway.run("generate", ImageRequest(prompt="x", model="gpt-image-1"))
    assert fake.calls[0].body["model"] == "gpt-image-1"
    assert (caught.value.code, caught.value.retryable) == ("not_found", False)
    assert "`gpt-image-1` has been deprecated" in caught.value.message


_EDGE_PARAMS = [("generate", {"quality": "max"}), ("generate", {"quality": "xhigh"}), ("edit", {"input_fidelity": "high"}),
                ("generate", {"output_format": "gif"}), ("edit", {"output_format": "svg"}),
                ("generate", {"output_format": "gif", "output_compression": 50}),
                ("generate", {"output_format": "gif", "partial_images": 2}),
                ("generate", {"background": "transparent", "output_format": "jpeg"}),
                ("edit", {"moderation": "low"}), ("generate", {"frame_count": 4}),
                ("generate", {"svg_reasoning_effort": "low", "output_format": "svg"})]


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst"])
async def test_the_gateway_never_sends_what_todays_api_refuses(make_gateway: Any, fake: FakeOpenAI,
                                                               model: str) -> None:
    """Each edge case is either refused before any call or sent as the API takes it."""
    from imagegate import ImagegateError

    gateway = await make_gateway(fake.base_url)
    image = ImageInput(kind="bytes", value=image_bytes(64, 64))
    for operation, params in _EDGE_PARAMS:
        before = fake.call_count
        request = ImageRequest(prompt="p", model=model, params=params, stream=True,
                               images=[image] if operation == "edit" else [])
        try:
            await gateway.run(operation, request)
        except ImagegateError as error:
            assert fake.call_count == before and error.code == "invalid_request", (params, error)
    fake.assert_valid()
