"""The Images API: ``/images/generations`` (JSON), ``/images/edits`` and ``/images/variations``
(multipart), exactly as OpenAI's reference describes them.

GPT image models always answer base64 and are never sent ``response_format``; dall-e models are
asked for ``b64_json`` so no second hop is needed (a URL answer is still downloaded at once, as
its link expires within the hour). With ``call.stream`` a GPT image model answers server-sent
events and each partial image is reported through ``call.progress``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.imagetype import EXTENSIONS
from imagegate.provider import InputImage, ProviderImage, ProviderResult, Usage

from .catalog import PROVIDER
from .results import decode_b64, images_from_data, mime_for, per_image_cost, usage_from
from .transport import post, read_events, read_json

if TYPE_CHECKING:
    import aiohttp

    from imagegate.provider import ProviderCall

    from .settings import OpenAISettings

__all__ = ["edit_form", "generation_body", "is_dall_e", "run_images", "variation_form"]

DEFAULT_PARTIAL_IMAGES = 2
_PATHS = {"generate": "/images/generations", "edit": "/images/edits", "variation": "/images/variations"}


def is_dall_e(call: ProviderCall) -> bool:
    return call.model.options.get("family") == "dall-e"


def _streams(call: ProviderCall) -> bool:
    return call.stream and call.model.streaming and not is_dall_e(call)


def _model_params(call: ProviderCall) -> dict[str, Any]:
    """The model's own parameters as sent upstream (``partial_images`` only when streaming)."""
    params = {k: v for k, v in call.params.items() if k != "partial_images"}
    if is_dall_e(call):
        params["response_format"] = "b64_json"
    elif _streams(call):
        params["stream"] = True
        params["partial_images"] = call.params.get("partial_images", DEFAULT_PARTIAL_IMAGES)
    return params


def generation_body(call: ProviderCall) -> dict[str, Any]:
    """The JSON body of ``POST /images/generations``."""
    body: dict[str, Any] = {"model": call.model.upstream, "prompt": call.prompt, "n": call.n}
    if call.size:
        body["size"] = call.size
    body.update(_model_params(call))
    return body


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add_file(form: aiohttp.FormData, name: str, image: InputImage, stem: str) -> None:
    filename = f"{stem}.{EXTENSIONS.get(image.mime_type, 'png')}"
    form.add_field(name, image.data, filename=filename, content_type=image.mime_type)


def _add_common_fields(form: aiohttp.FormData, call: ProviderCall) -> None:
    """Model, count, size and the model's own parameters, as edits and variations send them."""
    form.add_field("model", call.model.upstream)
    form.add_field("n", str(call.n))
    if call.size:
        form.add_field("size", call.size)
    for name, value in _model_params(call).items():
        form.add_field(name, _text(value))


def _check_inputs(call: ProviderCall) -> None:
    """What the catalog cannot declare: PNG masks, square dall-e-2 inputs, matching mask sizes."""
    first = call.images[0]
    if is_dall_e(call) and first.width and first.height and first.width != first.height:
        msg = f"{call.model.id} takes a square image; this one is {first.width}x{first.height}"
        raise InvalidRequest(msg, param="image", provider=PROVIDER)
    mask = call.mask
    if mask is None:
        return
    if mask.mime_type != "image/png":
        msg = f"the mask must be a PNG (its transparent areas mark what to edit); got {mask.mime_type}"
        raise InvalidRequest(msg, param="mask", provider=PROVIDER)
    if first.width and mask.width and (mask.width, mask.height) != (first.width, first.height):
        msg = (f"the mask is {mask.width}x{mask.height} but the image is {first.width}x{first.height}; "
               "they must be the same size")
        raise InvalidRequest(msg, param="mask", provider=PROVIDER)


def edit_form(call: ProviderCall) -> aiohttp.FormData:
    """The multipart body of ``POST /images/edits`` (``image[]`` when several images)."""
    import aiohttp

    _check_inputs(call)
    form = aiohttp.FormData()
    field = "image[]" if len(call.images) > 1 else "image"
    for index, image in enumerate(call.images):
        _add_file(form, field, image, f"image-{index + 1}")
    if call.mask is not None:
        _add_file(form, "mask", call.mask, "mask")
    form.add_field("prompt", call.prompt or "")
    _add_common_fields(form, call)
    return form


def variation_form(call: ProviderCall) -> aiohttp.FormData:
    """The multipart body of ``POST /images/variations`` (dall-e-2)."""
    import aiohttp

    _check_inputs(call)
    form = aiohttp.FormData()
    _add_file(form, "image", call.images[0], "image")
    _add_common_fields(form, call)
    return form


async def run_images(call: ProviderCall, settings: OpenAISettings) -> ProviderResult:
    """One Images API request for ``call.operation``."""
    what = f"{call.model.id} {call.operation}"
    requested_mime = mime_for(call.model.output_format(call.params))
    json_body = generation_body(call) if call.operation == "generate" else None
    form = None
    if call.operation == "edit":
        form = edit_form(call)
    elif call.operation == "variation":
        form = variation_form(call)
    async with post(call, settings, _PATHS[call.operation], json=json_body, form=form) as response:
        if response.content_type == "text/event-stream":
            return await _read_stream(call, settings, response, what, requested_mime)
        answer = await read_json(response, what, images=True, decode=not call.keep_base64)
    payload = answer.payload
    mime = mime_for(payload.get("output_format")) or requested_mime
    images = await images_from_data(payload, what=what, mime_type=mime, download=call.download)
    cost = per_image_cost(call.model, call.params, call.size, len(images)) if is_dall_e(call) else None
    return ProviderResult(images=images, usage=usage_from(payload.get("usage")), actual_cost_usd=cost,
                          provider_request_id=answer.request_id, model_version=call.model.upstream)


def _add_usage(total: Usage | None, more: Usage | None) -> Usage | None:
    if more is None:
        return total
    if total is None:
        return more
    return Usage(
        input_text_tokens=total.input_text_tokens + more.input_text_tokens,
        input_image_tokens=total.input_image_tokens + more.input_image_tokens,
        output_image_tokens=total.output_image_tokens + more.output_image_tokens,
        output_text_tokens=total.output_text_tokens + more.output_text_tokens,
    )


async def _read_stream(call: ProviderCall, settings: OpenAISettings, response: aiohttp.ClientResponse,
                       what: str, requested_mime: str | None) -> ProviderResult:
    """Partial images go to ``call.progress``; each ``*.completed`` event is one final image."""
    images: list[ProviderImage] = []
    usage: Usage | None = None
    async for event in read_events(response, settings, what):
        kind = str(event.get("type", ""))
        mime = mime_for(event.get("output_format")) or requested_mime
        if kind.endswith(".partial_image"):
            call.progress("partial_image", {"index": event.get("partial_image_index", 0),
                                            "b64_json": event.get("b64_json"), "mime_type": mime})
        elif kind.endswith(".completed"):
            data = decode_b64(event.get("b64_json"), f"{what} (streamed image {len(images) + 1})")
            images.append(ProviderImage(data=data, mime_type=mime))
            usage = _add_usage(usage, usage_from(event.get("usage")))
    if not images:
        msg = f"OpenAI's stream for {what} ended without a completed image"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    return ProviderResult(images=images, usage=usage, provider_request_id=response.headers.get("x-request-id"),
                          model_version=call.model.upstream)
