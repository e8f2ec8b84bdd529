"""``stream: true``: OpenAI's server-sent events for partial and finished images.

Events are ``image_generation.partial_image`` / ``image_generation.completed`` (``image_edit.*``
for edits), built from the provider's ``partial_image`` progress reports. Nothing is sent until
the first event, so a request the gateway refuses (a model that cannot stream, a bad parameter)
still gets a plain 400 envelope; a failure after that is sent as an ``error`` event.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from imagegate import ImagegateError

from .answers import b64, openai_usage
from .envelope import error_envelope

if TYPE_CHECKING:
    from imagegate import Gateway, ImageRequest, ImageResult, Operation

__all__ = ["stream_images"]

_EMPTY_USAGE = {"input_tokens": 0, "input_tokens_details": {"text_tokens": 0, "image_tokens": 0},
                "output_tokens": 0, "total_tokens": 0}


def _settings_fields(image_request: ImageRequest) -> dict[str, Any]:
    params = image_request.params
    return {
        "size": image_request.size or "auto",
        "quality": params.get("quality", "auto"),
        "background": params.get("background", "auto"),
        "output_format": params.get("output_format", "png"),
    }


async def _send(response: web.StreamResponse, event: str, data: dict[str, Any]) -> None:
    await response.write(b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n")


async def _start(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    return response


async def stream_images(request: web.Request, gateway: Gateway, operation: Operation,
                        image_request: ImageRequest, **run: Any) -> web.StreamResponse:
    """Serve ``image_request`` as server-sent events; ``run`` is passed to the gateway (owner,
    idempotency key and digest, delivery)."""
    prefix = "image_generation" if operation == "generate" else "image_edit"
    fields = _settings_fields(image_request)
    partials: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def progress(message: str, data: dict[str, Any]) -> None:
        if message == "partial_image":
            partials.put_nowait(data)

    work = asyncio.ensure_future(gateway.run(operation, image_request, frontend="http", progress=progress,
                                             carrier=dict(request.headers), **run))
    response: web.StreamResponse | None = None
    try:
        while not work.done() or not partials.empty():
            if partials.empty():
                waiter = asyncio.ensure_future(partials.get())
                await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    waiter.cancel()
                    continue
                data = waiter.result()
            else:
                data = partials.get_nowait()
            response = response or await _start(request)
            await _send(response, f"{prefix}.partial_image", {
                "type": f"{prefix}.partial_image", "b64_json": data.get("b64_json", ""),
                "created_at": int(time.time()), "partial_image_index": int(data.get("index", 0)), **fields})
        result: ImageResult = work.result()
    except ImagegateError as exc:
        if response is None:
            raise
        await _send(response, "error", {"type": "error", **error_envelope(exc)})
        await response.write_eof()
        return response
    finally:
        if not work.done():
            work.cancel()
    response = response or await _start(request)
    usage = openai_usage(result.usage) or _EMPTY_USAGE
    for image in result.images:
        await _send(response, f"{prefix}.completed", {
            "type": f"{prefix}.completed", "b64_json": b64(image), "created_at": int(time.time()),
            **fields, "usage": usage, "imagegate": image.as_dict() | {"path": None}})
    await response.write_eof()
    return response
