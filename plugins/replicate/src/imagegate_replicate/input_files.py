"""The request's input images as Replicate file inputs, and the checks that need the operation.

Replicate takes a file input as a hosted URL or a data URI; the gateway has the bytes (already
size- and type-checked), so each image is sent as ``data:<mime>;base64,...`` in the model's image
input (one URI, or a list of them for models such as FLUX.2 that take several reference images),
and the mask in its mask input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate.errors import InvalidRequest

if TYPE_CHECKING:
    from imagegate.provider import InputImage, ProviderCall

__all__ = ["MATCH_INPUT", "check_operation_values", "data_uri", "file_inputs"]

MATCH_INPUT = "match_input_image"
"""A value of FLUX.2's ``aspect_ratio`` and ``resolution`` that copies the first input image."""


def data_uri(image: InputImage) -> str:
    import pybase64

    return f"data:{image.mime_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


def file_inputs(call: ProviderCall) -> dict[str, Any]:
    """The image and mask inputs of the prediction (empty for a generation)."""
    options = call.model.options
    values: dict[str, Any] = {}
    image_param = options.get("image_param")
    if image_param and call.images:
        uris = [data_uri(image) for image in call.images]
        values[image_param] = uris if options.get("image_list") else uris[0]
    mask_param = options.get("mask_param")
    if mask_param and call.mask is not None:
        values[mask_param] = data_uri(call.mask)
    return values


def check_operation_values(call: ProviderCall) -> None:
    """Refuse ``match_input_image`` when there is no input image to match (before any prediction)."""
    if call.images:
        return
    for name, value in call.params.items():
        if value == MATCH_INPUT:
            allowed = call.model.params[name].enum if name in call.model.params else None
            others = ", ".join(str(v) for v in allowed or [] if v != MATCH_INPUT)
            msg = (f"{name}={MATCH_INPUT!r} needs input images (use edit with reference images)"
                   + (f"; without them {call.model.id} takes {others}" if others else ""))
            raise InvalidRequest(msg, param=name)
