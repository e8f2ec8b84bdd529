"""Units: argument checks, schema merging, delivery caps, progress texts, the error mapping."""

from __future__ import annotations

import io
import json
from typing import Any

import pybase64
import pytest
from imagegate._errors import InvalidRequest, StorageError
from imagegate._models import Cost, ImageOut, ImageResult
from imagegate_mcp.delivery import deliver_content, make_preview
from imagegate_mcp.errors import error_result
from imagegate_mcp.progress import describe_status
from imagegate_mcp.schemas import model_list, tool_input_schema
from imagegate_mcp.settings import MCPSettings
from imagegate_mcp.tools import check_arguments
from PIL import Image

from .support import fake_specs, noisy_png


def schema_for(*ids: str) -> dict[str, Any]:
    specs = [spec for spec in fake_specs() if spec.id in ids]
    return tool_input_schema(specs, "generate", models=None, default_model=specs[0].id, deliver_default="link",
                             image_help="help", model_params=True)


@pytest.mark.parametrize(("arguments", "param", "fragment"), [
    ({}, "prompt", "prompt is required"),
    ({"prompt": ""}, "prompt", "prompt is empty"),
    ({"prompt": "x", "n": 0}, "n", "out of range"),
    ({"prompt": "x", "n": "2"}, "n", "must be of type integer"),
    ({"prompt": "x", "quality": "ultra"}, "quality", "allowed: low, medium"),
    ({"prompt": "x", "deliver": "email"}, "deliver", "allowed: link, preview, full"),
    ({"prompt": "x", "colour": "red"}, "colour", "unknown argument(s) colour"),
])
def test_arguments_are_checked_against_the_schema(arguments: dict[str, Any], param: str, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_arguments(schema_for("gpt-image-1"), arguments)
    assert info.value.param == param
    assert fragment in info.value.message


def test_argument_errors_never_repeat_long_values() -> None:
    secret = "QUJD" * 5000
    with pytest.raises(InvalidRequest) as info:
        check_arguments(schema_for("gpt-image-1"), {"prompt": "x", "quality": secret})
    assert secret[:40] not in info.value.message


def test_parameters_of_several_models_are_merged() -> None:
    both = schema_for("gpt-image-1", "dall-e-3")
    assert both["properties"]["quality"]["enum"] == ["low", "medium", "high", "auto", "standard", "hd"]
    assert "dall-e-3: standard, hd" in both["properties"]["quality"]["description"]
    assert both["properties"]["size"]["enum"] == ["1024x1024", "1536x1024", "auto", "1792x1024"]
    assert both["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}
    mixed = schema_for("gpt-image-1", "dall-e-3", "flux-dev")
    props = mixed["properties"]
    assert "flux-dev: no size" in props["size"]["description"]
    # options only some models take are not named arguments: they go in params, described by model
    assert "quality" not in props and "guidance" not in props
    assert "flux-dev: " in props["params"]["description"] and "guidance" in props["params"]["description"]
    assert "additionalProperties" not in mixed  # top-level options are let through to the gateway's check


def test_a_parameter_every_model_takes_alike_needs_no_per_model_note() -> None:
    from imagegate._catalog import ModelSpec, ParamSpec

    seed = ParamSpec(type="integer", minimum=0, description="Random seed.")
    specs = [ModelSpec(id=name, provider="p", upstream=name, params={"seed": seed}) for name in ("a", "b")]
    props = tool_input_schema(specs, "generate", models=["a", "b"], default_model="a", deliver_default="link",
                              image_help="help", model_params=True)["properties"]
    assert props["seed"] == {"type": "integer", "minimum": 0, "description": "Random seed."}


def test_preview_respects_the_cap_and_keeps_transparency() -> None:
    preview, mime, size = make_preview(noisy_png(600), 8192) or (b"", "", (0, 0))
    assert mime == "image/jpeg" and 0 < len(preview) <= 8192 and max(size) <= 512
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    made = make_preview(buffer.getvalue(), 8192)
    assert made is not None and made[1] == "image/webp"
    assert Image.open(io.BytesIO(made[0])).mode == "RGBA"


def result_with(data: bytes, mime: str = "image/png") -> ImageResult:
    image = ImageOut(id="img_20200101_aaaaaaaaaaaaaaaaaaaaaaaaaa", mime_type=mime, bytes=len(data), sha256="0",
                     width=600, height=600, path=None, url=None, data=data)
    return ImageResult(images=[image], model="m", provider="p", request_id="r", cost=Cost())


async def test_full_is_downgraded_above_the_inline_cap() -> None:
    big = noisy_png(600)
    settings = MCPSettings(inline_max_bytes=100_000, preview_max_bytes=8192)
    blocks = await deliver_content(None, result_with(big), "full", settings, "{}")  # type: ignore[arg-type]
    assert [block.type for block in blocks] == ["text", "resource_link", "image", "text"]
    assert len(pybase64.b64decode(blocks[2].data)) <= 8192
    assert "MCP__INLINE_MAX_BYTES" in blocks[3].text and "preview" in blocks[3].text
    small = await deliver_content(None, result_with(big), "full", MCPSettings(inline_max_bytes=len(big)), "{}")  # type: ignore[arg-type]
    assert [block.type for block in small] == ["text", "image"]
    assert pybase64.b64decode(small[1].data) == big


def test_progress_texts_never_carry_image_data() -> None:
    text = describe_status("partial_image", {"index": 1, "b64_json": "QUJD" * 1000})
    assert text == "partial image 1 received"
    assert describe_status("retrying", {"attempt": 1, "reason": "rate_limited", "delay_s": 2}) == (
        "retrying after rate_limited (attempt 1), waiting 2.0 s")


def test_error_result_is_the_exact_error_object(caplog: pytest.LogCaptureFixture) -> None:
    stored = error_result(StorageError("disk full", spool_path="/spool/x.png"))
    body = json.loads(stored.content[0].text)
    assert stored.is_error and stored.structured_content is None and len(stored.content) == 1
    assert "structuredContent" not in stored.model_dump(by_alias=True, exclude_none=True)
    assert body["error"]["code"] == "storage_error" and body["error"]["spool_path"] == "/spool/x.png"
    crash = error_result(KeyError("sk-secret-key"), "tool generate_image")
    error = json.loads(crash.content[0].text)["error"]
    assert crash.is_error and error["code"] == "internal"
    assert "sk-secret-key" not in crash.content[0].text
    assert "KeyError" in error["message"]


def test_error_messages_clip_what_they_quote() -> None:
    name = "x" * 300_000
    result = error_result(InvalidRequest(f"unknown argument(s) {name}; this tool takes: prompt, n", param=name))
    error = json.loads(result.content[0].text)["error"]
    assert len(result.content[0].text) < 1000
    assert error["message"].startswith("unknown argument(s) " + "x" * 100 + "…")
    assert error["param"] == "x" * 100 + "…"
    short = error_result(InvalidRequest(f"unknown argument(s) {'y' * 500}; this tool takes: prompt, n"))
    assert json.loads(short.content[0].text)["error"]["message"].endswith("this tool takes: prompt, n")
    spaced = error_result(InvalidRequest("word " * 100_000))
    assert len(json.loads(spaced.content[0].text)["error"]["message"]) <= 2010


def test_dated_snapshots_are_not_named_when_their_model_is() -> None:
    from imagegate import ModelSpec

    ids = ["img-2", "img-2-2026-04-21", "img-3-2026-09-01", "solo"]
    specs = [ModelSpec(id=name, provider="p", upstream=name) for name in ids]
    # a snapshot still works when asked for; naming it beside its model only costs tool-list bytes
    assert model_list(specs) == "p: img-2, img-3-2026-09-01, solo"
