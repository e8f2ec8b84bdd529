"""Responses-API mode (``responses/<model>``): ``POST /responses`` with the image_generation tool.

``tool_choice`` forces the tool, so the mainline model cannot answer with text only (which would
be paid for and give no image). The image options are the tool's keys exactly as the SDK's
``tool_param.ImageGeneration`` names them. An edit sends the prompt and its input images as one
user message (``input_text`` and ``input_image`` data URLs), the mask as the tool's
``input_image_mask``, and ``action: "edit"`` unless the request chose one. With ``call.stream``
the request streams and each ``response.image_generation_call.partial_image`` event is reported
through ``call.progress``. The answer's ``image_generation_call`` items carry the base64 image
and the revised prompt; their reported size and quality price the image tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pybase64

from imagegate import ContentFiltered, InvalidRequest, ProviderImage, ProviderResult, UpstreamError, Usage

from .catalog import PROVIDER, image_output_tokens
from .images_api import DEFAULT_PARTIAL_IMAGES, check_inputs, svg_object
from .results import decode_b64, mime_for
from .transport import post, read_events, read_json
from .upstream_errors import error_from_body

if TYPE_CHECKING:
    import aiohttp

    from imagegate import InputImage, ProviderCall

    from .settings import OpenAISettings

__all__ = ["TOOL_OPTIONS", "response_body", "run_responses"]

TOOL_OPTIONS = ("quality", "output_format", "output_compression", "background", "moderation", "complexity",
                "frame_count", "frame_duration_ms", "input_fidelity", "action")
"""Model parameters sent as tool keys of the same name."""

_UNSTREAMED_PARTIALS = ("gif", "svg")
"""Formats without partial images (their lifecycle events still stream)."""

def _data_url(image: InputImage) -> str:
    return f"data:{image.mime_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


def _streams(call: ProviderCall) -> bool:
    return call.stream and call.model.streaming


def _tool(call: ProviderCall) -> dict[str, Any]:
    """The ``image_generation`` tool object (``tool_param.ImageGeneration``)."""
    tool: dict[str, Any] = {"type": "image_generation"}
    if "image_model" in call.params:
        tool["model"] = call.params["image_model"]
    if call.size:
        tool["size"] = call.size
    tool.update({name: call.params[name] for name in TOOL_OPTIONS if name in call.params})
    if call.operation == "edit":
        tool.setdefault("action", "edit")
    if call.mask is not None:
        tool["input_image_mask"] = {"image_url": _data_url(call.mask)}
    svg = svg_object(call, model_required=False)
    if svg is not None:
        tool["svg"] = svg
    if _streams(call) and call.model.output_format(call.params) not in _UNSTREAMED_PARTIALS:
        tool["partial_images"] = call.params.get("partial_images", DEFAULT_PARTIAL_IMAGES)
    return tool


def _input(call: ProviderCall) -> str | list[dict[str, Any]]:
    """The prompt alone, or (an edit) one user message with the prompt and the input images."""
    if call.operation != "edit":
        return call.prompt or ""
    content: list[dict[str, Any]] = [{"type": "input_text", "text": call.prompt or ""}]
    content += [{"type": "input_image", "image_url": _data_url(image), "detail": "auto"} for image in call.images]
    return [{"role": "user", "content": content}]


def _check(call: ProviderCall) -> None:
    """What the catalog cannot declare, checked before anything is spent."""
    if call.operation == "edit":
        check_inputs(call)
    elif call.params.get("action") == "edit":
        msg = (f"action 'edit' needs input images; use the edit operation with {call.model.id}, "
               "or action 'generate' or 'auto'")
        raise InvalidRequest(msg, param="action", provider=PROVIDER)


def response_body(call: ProviderCall) -> dict[str, Any]:
    """The JSON body of ``POST /responses`` forcing one image_generation call."""
    _check(call)
    body: dict[str, Any] = {
        "model": call.model.options["mainline_model"],
        "input": _input(call),
        "tools": [_tool(call)],
        "tool_choice": {"type": "image_generation"},
        "store": False,
    }
    if "user" in call.params:
        body["safety_identifier"] = call.params["user"]
    if _streams(call):
        body["stream"] = True
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


async def _streamed_response(call: ProviderCall, settings: OpenAISettings, response: aiohttp.ClientResponse,
                             what: str) -> dict[str, Any]:
    """The final Response object of a stream; partial images go to ``call.progress``."""
    requested_mime = mime_for(call.model.output_format(call.params))
    final: dict[str, Any] | None = None
    async for event in read_events(response, settings, what):
        kind = event.get("type")
        if kind == "response.image_generation_call.partial_image":
            call.progress("partial_image", {"index": event.get("partial_image_index", 0),
                                            "b64_json": event.get("partial_image_b64"),
                                            "mime_type": mime_for(event.get("output_format")) or requested_mime})
        elif kind in ("response.completed", "response.failed", "response.incomplete") \
                and isinstance(event.get("response"), dict):
            final = event["response"]
    if final is None:
        msg = f"OpenAI's stream for {what} ended without a final response"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    return final


async def run_responses(call: ProviderCall, settings: OpenAISettings) -> ProviderResult:
    """One Responses-API request; one image per call (the gateway fans out for n > 1)."""
    what = f"{call.model.id} {call.operation}"
    async with post(call, settings, "/responses", json=response_body(call)) as response:
        if response.content_type == "text/event-stream":
            payload, request_id = await _streamed_response(call, settings, response, what), None
        else:
            answer = await read_json(response, what)
            payload, request_id = answer.payload, answer.request_id
        request_id = request_id or response.headers.get("x-request-id")
    return _result(call, payload, request_id, what)


def _result(call: ProviderCall, payload: dict[str, Any], request_id: str | None, what: str) -> ProviderResult:
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
        input_image_tokens=len(call.images) * (call.model.pricing.input_tokens_per_image or 0),
        output_text_tokens=int(usage.get("output_tokens") or 0),
        output_image_tokens=image_tokens,
    )
    return ProviderResult(images=images, usage=tokens, provider_request_id=request_id or payload.get("id"),
                          model_version=str(payload.get("model") or call.model.options["mainline_model"]))
