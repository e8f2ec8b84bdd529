"""The JSON body of ``POST /models/{model}:generateContent`` for one call (REST camelCase).

The prompt is the first part and each input image an ``inlineData`` part after it; image
parameters go to ``generationConfig.imageConfig``. Base64-encoding megabytes of input images runs
off the event loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
import pybase64

from .catalog import RESPONSE_MODALITIES

if TYPE_CHECKING:
    from imagegate import InputImage, ProviderCall

__all__ = ["encoded_body", "generation_config", "request_body"]

_GENERATION_FIELDS = {"temperature": "temperature", "top_p": "topP", "seed": "seed"}
_IMAGE_FIELDS = {"aspect_ratio": "aspectRatio", "image_size": "imageSize"}


def generation_config(call: ProviderCall) -> dict[str, Any]:
    """``generationConfig``: modalities, image settings, sampling and (when the spec says so) the count."""
    params = call.params
    modalities = params.get("response_modalities") or call.model.params["response_modalities"].default
    config: dict[str, Any] = {"responseModalities": RESPONSE_MODALITIES[modalities]}
    image_config = _present(params, _IMAGE_FIELDS)
    if image_config:
        config["imageConfig"] = image_config
    config.update(_present(params, _GENERATION_FIELDS))
    if call.model.n_param and call.n > 1:
        config[call.model.n_param] = call.n
    return config


def _present(params: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """The given parameters among ``fields``, under their wire names."""
    return {wire: params[name] for name, wire in fields.items() if params.get(name) is not None}


def _image_part(image: InputImage) -> dict[str, Any]:
    data = pybase64.b64encode(image.data).decode("ascii")
    return {"inlineData": {"mimeType": image.mime_type, "data": data}}


def request_body(call: ProviderCall) -> dict[str, Any]:
    """The whole body: one user turn (prompt, then the reference images) and its configuration."""
    parts: list[dict[str, Any]] = [{"text": call.prompt or ""}]
    parts.extend(_image_part(image) for image in call.images)
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": generation_config(call)}


async def encoded_body(call: ProviderCall) -> bytes:
    """The body as JSON bytes; with input images, built in a worker thread."""
    if not call.images:
        return orjson.dumps(request_body(call))
    return await asyncio.to_thread(lambda: orjson.dumps(request_body(call)))
