"""Responses-API mode (``responses/<model>``): ``POST /responses`` with the image_generation tool.

``tool_choice`` forces the tool, so the mainline model cannot answer with text only (which would
be paid for and give no image). Size, quality, format, compression, background and moderation
are tool options. The answer's ``image_generation_call`` items carry the base64 image and the
revised prompt; their reported size and quality price the image tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate.errors import ContentFiltered, UpstreamError
from imagegate.provider import ProviderImage, ProviderResult, Usage

from .catalog import PROVIDER, image_output_tokens
from .images_api import svg_object
from .results import decode_b64, mime_for
from .transport import post, read_json
from .upstream_errors import error_from_body

if TYPE_CHECKING:
    from imagegate.provider import ProviderCall

    from .settings import OpenAISettings

__all__ = ["TOOL_OPTIONS", "response_body", "run_responses"]

TOOL_OPTIONS = ("quality", "output_format", "output_compression", "background", "moderation", "complexity",
                "frame_count", "frame_duration_ms", "action")


def response_body(call: ProviderCall) -> dict[str, Any]:
    """The JSON body of ``POST /responses`` forcing one image_generation call (the tool's
    ``model`` is ``image_model``, else the tool's default)."""
    tool: dict[str, Any] = {"type": "image_generation"}
    if "image_model" in call.params:
        tool["model"] = call.params["image_model"]
    if call.size:
        tool["size"] = call.size
    tool.update({name: call.params[name] for name in TOOL_OPTIONS if name in call.params})
    svg = svg_object(call, model_required=False)
    if svg is not None:
        tool["svg"] = svg
    body: dict[str, Any] = {
        "model": call.model.options["mainline_model"],
        "input": call.prompt,
        "tools": [tool],
        "tool_choice": {"type": "image_generation"},
        "store": False,
    }
    if "user" in call.params:
        body["safety_identifier"] = call.params["user"]
    return body


def _refusal(payload: dict[str, Any], what: str) -> Exception:
    """Why an answer holds no image: its error, a content filter, or a bare UpstreamError."""
    error = payload.get("error")
    if isinstance(error, dict):
        return error_from_body(error, status=None, key=None)
    details = payload.get("incomplete_details")
    if isinstance(details, dict) and details.get("reason") == "content_filter":
        return ContentFiltered(f"OpenAI's content filter stopped {what}", provider=PROVIDER)
    msg = f"OpenAI answered {what} without an image_generation_call (status {payload.get('status')!r})"
    return UpstreamError(msg, provider=PROVIDER, retryable=False)


async def run_responses(call: ProviderCall, settings: OpenAISettings) -> ProviderResult:
    """One Responses-API request; one image per call (the gateway fans out for n > 1)."""
    what = f"{call.model.id} generate"
    async with post(call, settings, "/responses", json=response_body(call)) as response:
        answer = await read_json(response, what)
    payload = answer.payload
    output = payload.get("output")
    items = [o for o in output if isinstance(o, dict) and o.get("type") == "image_generation_call"] \
        if isinstance(output, list) else []
    if not items:
        raise _refusal(payload, what)
    images = []
    image_tokens = 0
    requested_mime = mime_for(call.model.output_format(call.params))
    for item in items:
        if item.get("status") == "failed" or item.get("result") is None:
            msg = f"OpenAI's image_generation_call for {what} ended {item.get('status')!r} without an image"
            raise UpstreamError(msg, provider=PROVIDER, retryable=False)
        data = decode_b64(item["result"], what)
        revised = item.get("revised_prompt") if isinstance(item.get("revised_prompt"), str) else None
        images.append(ProviderImage(data=data, mime_type=mime_for(item.get("output_format")) or requested_mime,
                                    revised_prompt=revised))
        image_tokens += image_output_tokens(item.get("quality") or call.params.get("quality"),
                                            item.get("size") or call.size)
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    tokens = Usage(
        input_text_tokens=int(usage.get("input_tokens") or 0),
        output_text_tokens=int(usage.get("output_tokens") or 0),
        output_image_tokens=image_tokens,
    )
    return ProviderResult(images=images, usage=tokens,
                          provider_request_id=answer.request_id or payload.get("id"),
                          model_version=str(payload.get("model") or call.model.options["mainline_model"]))
