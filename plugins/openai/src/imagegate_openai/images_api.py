"""The Images API: ``/images/generations`` (JSON) and ``/images/edits`` (multipart), exactly as
the official SDK's ``ImageGenerateParams`` / ``ImageEditParams`` describe them.

GPT image models always answer base64 and are never sent ``response_format``. ``user`` goes out
as ``safety_identifier`` (unless that is set); ``svg_model``/``svg_reasoning_effort`` become the
``svg`` object (``svg[model]``, ``svg[reasoning][effort]`` in a form). With ``call.stream`` the
model answers server-sent events and each partial image is reported through ``call.progress``;
GIF and SVG output never stream (the API refuses it), so such a call is sent without ``stream``.
(``/images/variations`` is retired for every model.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import InvalidRequest, UpstreamError
from imagegate.files import EXTENSIONS
from imagegate import InputImage, ProviderImage, ProviderResult, Usage

from .catalog import PROVIDER
from .results import decode_b64, images_from_data, mime_for, usage_from
from .transport import post, read_events, read_json

if TYPE_CHECKING:
    import aiohttp

    from imagegate import ProviderCall

    from .settings import OpenAISettings

__all__ = ["check_inputs", "edit_form", "generation_body", "run_images", "svg_object"]

DEFAULT_PARTIAL_IMAGES = 2
_PATHS = {"generate": "/images/generations", "edit": "/images/edits"}
_UNSTREAMED_FORMATS = ("gif", "svg")
_ASSEMBLED = ("partial_images", "user", "svg_model", "svg_reasoning_effort")


def _streams(call: ProviderCall) -> bool:
    return (call.stream and call.model.streaming
            and call.model.output_format(call.params) not in _UNSTREAMED_FORMATS)


def svg_object(call: ProviderCall, *, model_required: bool) -> dict[str, Any] | None:
    """The ``svg`` object from ``svg_model`` and ``svg_reasoning_effort``, or None when neither is set.

    The Images API's generation ``svg`` object requires ``model`` (``image_generate_params.Svg``),
    so there an effort alone is refused before anything is spent."""
    model, effort = call.params.get("svg_model"), call.params.get("svg_reasoning_effort")
    if model is None and effort is None:
        return None
    if model is None and model_required:
        msg = f"svg_reasoning_effort needs svg_model for a generation with {call.model.id}; set both or neither"
        raise InvalidRequest(msg, param="svg_model", provider=PROVIDER)
    svg: dict[str, Any] = {} if model is None else {"model": model}
    if effort is not None:
        svg["reasoning"] = {"effort": effort}
    return svg


def _model_params(call: ProviderCall) -> dict[str, Any]:
    """The model's own parameters as sent upstream: ``partial_images`` only when streaming,
    ``user`` as ``safety_identifier`` when that is empty, the ``svg`` object assembled."""
    params = {k: v for k, v in call.params.items() if k not in _ASSEMBLED}
    if call.params.get("user") and not call.params.get("safety_identifier"):
        params["safety_identifier"] = call.params["user"]
    svg = svg_object(call, model_required=call.operation == "generate")
    if svg is not None:
        params["svg"] = svg
    if _streams(call):
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


def _form_fields(name: str, value: Any) -> list[tuple[str, str]]:
    """A parameter as multipart text fields; objects nest with brackets (``svg[reasoning][effort]``)."""
    if isinstance(value, dict):
        return [pair for key, inner in value.items() for pair in _form_fields(f"{name}[{key}]", inner)]
    return [(name, _text(value))]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add_file(form: aiohttp.FormData, name: str, image: InputImage, stem: str) -> None:
    filename = f"{stem}.{EXTENSIONS.get(image.mime_type, 'png')}"
    form.add_field(name, image.data, filename=filename, content_type=image.mime_type)


def _check_overlay(name: str, overlay: InputImage | None, first: InputImage, purpose: str) -> None:
    """A mask or markup: a PNG of the first image's size."""
    if overlay is None:
        return
    if overlay.mime_type != "image/png":
        msg = f"the {name} must be a PNG ({purpose}); got {overlay.mime_type}"
        raise InvalidRequest(msg, param=name, provider=PROVIDER)
    if first.width and overlay.width and (overlay.width, overlay.height) != (first.width, first.height):
        msg = (f"the {name} is {overlay.width}x{overlay.height} but the image is {first.width}x{first.height}; "
               "they must be the same size")
        raise InvalidRequest(msg, param=name, provider=PROVIDER)


def check_inputs(call: ProviderCall) -> None:
    """What the catalog cannot declare: PNG masks and markups of the first image's size, and no
    mask with GIF output."""
    first = call.images[0]
    _check_overlay("mask", call.mask, first, "its transparent areas mark what to edit")
    _check_overlay("markup", call.markup, first, "drawn over the first image to guide the edit")
    if call.mask is not None and call.model.output_format(call.params) == "gif":
        msg = f"{call.model.id} takes no mask with output_format gif; leave out the mask or pick another format"
        raise InvalidRequest(msg, param="mask", provider=PROVIDER)


def edit_form(call: ProviderCall) -> aiohttp.FormData:
    """The multipart body of ``POST /images/edits`` (``image[]`` when several images)."""
    import aiohttp

    check_inputs(call)
    form = aiohttp.FormData()
    field = "image[]" if len(call.images) > 1 else "image"
    for index, image in enumerate(call.images):
        _add_file(form, field, image, f"image-{index + 1}")
    if call.mask is not None:
        _add_file(form, "mask", call.mask, "mask")
    if call.markup is not None:
        _add_file(form, "markup", call.markup, "markup")
    form.add_field("prompt", call.prompt or "")
    form.add_field("model", call.model.upstream)
    form.add_field("n", str(call.n))
    if call.size:
        form.add_field("size", call.size)
    for name, value in _model_params(call).items():
        for key, text in _form_fields(name, value):
            form.add_field(key, text)
    return form


async def run_images(call: ProviderCall, settings: OpenAISettings) -> ProviderResult:
    """One Images API request for ``call.operation``."""
    what = f"{call.model.id} {call.operation}"
    requested_mime = mime_for(call.model.output_format(call.params))
    if call.operation not in _PATHS:
        msg = f"OpenAI retired /images/variations; edit with {call.model.id} and a prompt instead"
        raise InvalidRequest(msg, param="model", provider=PROVIDER)
    json_body = generation_body(call) if call.operation == "generate" else None
    form = edit_form(call) if call.operation == "edit" else None
    async with post(call, settings, _PATHS[call.operation], json=json_body, form=form) as response:
        if response.content_type == "text/event-stream":
            return await _read_stream(call, settings, response, what, requested_mime)
        answer = await read_json(response, what, images=True, decode=not call.keep_base64)
    payload = answer.payload
    mime = mime_for(payload.get("output_format")) or requested_mime
    images = await images_from_data(payload, what=what, mime_type=mime, download=call.download)
    return ProviderResult(images=images, usage=usage_from(payload.get("usage")),
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
