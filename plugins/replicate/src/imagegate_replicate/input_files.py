"""The request's input images as Replicate file inputs, and the checks that need the operation.

Replicate takes a file input as a URL or a data URI, and recommends data URIs only below 1 MB. The
gateway has the bytes (already size- and type-checked): a small image is sent as
``data:<mime>;base64,...``, a larger one is uploaded first (``POST /files``) and its ``urls.get``
sent instead. They go in the model's image input (one URI, or a list for models such as FLUX.2
that take several reference images) and the mask in its mask input. :class:`FileInputs` deletes
what it uploaded once the prediction is over.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from imagegate import InvalidRequest, UpstreamError

if TYPE_CHECKING:
    from imagegate import InputImage, ProviderCall

    from .api import ReplicateAPI

__all__ = ["DATA_URI_MAX_BYTES", "MATCH_INPUT", "FileInputs", "check_operation_values", "data_uri"]

DATA_URI_MAX_BYTES = 1_000_000
"""Larger input images are uploaded (Replicate recommends data URIs only below 1 MB)."""

MATCH_INPUT = "match_input_image"
"""A value of FLUX.2's ``aspect_ratio`` and ``resolution`` that copies the first input image."""


def data_uri(image: InputImage) -> str:
    import pybase64

    return f"data:{image.mime_type};base64,{pybase64.b64encode(image.data).decode('ascii')}"


class FileInputs:
    """The file inputs of one prediction, and the uploads they needed (deleted by :meth:`aclose`)."""

    def __init__(self, api: ReplicateAPI) -> None:
        self.api = api
        self.uploaded: list[dict[str, Any]] = []

    async def values(self, call: ProviderCall) -> dict[str, Any]:
        """The image and mask inputs of the prediction (empty for a generation). Uploads run one
        after another, so when one fails every earlier one is already known to :meth:`aclose`."""
        options = call.model.options
        values: dict[str, Any] = {}
        image_param = options.get("image_param")
        if image_param and call.images:
            uris = [await self._uri(image) for image in call.images]
            values[image_param] = uris if options.get("image_list") else uris[0]
        mask_param = options.get("mask_param")
        if mask_param and call.mask is not None:
            values[mask_param] = await self._uri(call.mask)
        return values

    async def _uri(self, image: InputImage) -> str:
        if len(image.data) <= DATA_URI_MAX_BYTES:
            return data_uri(image)
        file = await self.api.upload(image)
        self.uploaded.append(file)
        urls = file.get("urls")
        url = urls.get("get") if isinstance(urls, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            msg = "Replicate answered an upload without the file's URL"
            raise UpstreamError(msg)
        return url

    async def aclose(self) -> None:
        """Delete the uploaded files (shielded: a cancelled caller still cleans up)."""
        if self.uploaded:
            files, self.uploaded = self.uploaded, []
            await asyncio.shield(asyncio.gather(*(self.api.delete_file(file) for file in files)))


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
