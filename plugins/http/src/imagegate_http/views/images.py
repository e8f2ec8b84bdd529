"""``/v1/images/*``: generate, edit and vary (OpenAI shapes), and the stored images by id."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from imagegate import InvalidRequest

from ..answers import images_answer, lifecycle_headers
from ..envelope import json_response, pieces_response
from ..image_bytes import image_response
from ..image_query import ImageQuery, find_images
from ..job_answers import job_pieces
from ..job_asks import JobAsk, json_digest, upload_digest
from ..keys import GATEWAY, OPTIONS, caller_of
from ..multipart import read_upload
from ..sse import stream_images
from ..translate import read_json, to_image_request

if TYPE_CHECKING:
    from imagegate import Gateway, ImageRequest, Operation

    from ..options import HttpOptions

    from ..translate import Delivery

__all__ = ["delete_image", "edits", "generations", "get_image", "list_images", "variations"]


def _app_objects(request: web.Request) -> tuple[Gateway, HttpOptions]:
    return request.app[GATEWAY], request.app[OPTIONS]


def _consume(task: asyncio.Task[Any]) -> None:
    """An async job's outcome is in its record: nobody awaits its task."""
    if not task.cancelled():
        task.exception()


async def _answer(request: web.Request, operation: Operation, image_request: ImageRequest,
                  delivery: Delivery, ask: JobAsk, digest: str | None) -> web.StreamResponse:
    """Serve the request as a job: at once (202 and the job) with ``Prefer: respond-async``, else
    as OpenAI answers it; a repeated ``Idempotency-Key`` is answered from the first request's job."""
    gateway, _ = _app_objects(request)
    run: dict[str, Any] = {"owner": ask.owner, "caller": caller_of(request), "idempotency_key": ask.key, "digest": digest,
                           "webhook_url": delivery.webhook_url,
                           "delivery": {"frontend": "http", "response_format": delivery.response_format}}
    if ask.respond_async:
        if delivery.stream:
            msg = "stream=true is answered as it runs; drop it, or drop Prefer: respond-async"
            raise InvalidRequest(msg, param="stream")
        await gateway.estimate(operation, image_request)  # refuse what would fail before accepting it
        submitted = await gateway.jobs.submit(operation, image_request, frontend="http",
                                              carrier=dict(request.headers), **run)
        if submitted.task is not None:
            submitted.task.add_done_callback(_consume)
        job_id = submitted.record["id"]
        headers = {"Location": f"/v1/images/jobs/{job_id}", "Preference-Applied": "respond-async"}
        return await pieces_response(request, await job_pieces(gateway, submitted.record), headers, status=202)
    if delivery.stream:
        return await stream_images(request, gateway, operation, image_request, **run)
    result = await gateway.run(operation, image_request, frontend="http", carrier=dict(request.headers),
                               keep_base64=delivery.response_format == "b64_json", **run)
    return await pieces_response(request, images_answer(result, delivery.response_format),
                                 lifecycle_headers(result))


async def generations(request: web.Request) -> web.StreamResponse:
    """POST /v1/images/generations (JSON)."""
    gateway, options = _app_objects(request)
    ask = JobAsk.read(request)
    body = await read_json(request, options.max_json_bytes)
    image_request, delivery = await to_image_request(gateway, body)
    digest = json_digest("generate", body) if ask.key else None
    return await _answer(request, "generate", image_request, delivery, ask, digest)


async def _upload(request: web.Request, operation: Operation) -> web.StreamResponse:
    gateway, options = _app_objects(request)
    ask = JobAsk.read(request)
    form = await read_upload(request, options)
    image_request, delivery = await to_image_request(gateway, form.fields, form=True, images=form.images,
                                                     mask=form.mask, markup=form.markup)
    digest = upload_digest(operation, form) if ask.key else None
    return await _answer(request, operation, image_request, delivery, ask, digest)


async def edits(request: web.Request) -> web.StreamResponse:
    """POST /v1/images/edits (multipart: image or image[], optional mask or markup)."""
    return await _upload(request, "edit")


async def variations(request: web.Request) -> web.StreamResponse:
    """POST /v1/images/variations (multipart: image)."""
    return await _upload(request, "variation")


async def list_images(request: web.Request) -> web.Response:
    """GET /v1/images?limit=&before=&model=&since=&until=&parent=: stored images' metadata, newest
    first; ``last_id`` is the ``before`` of the next page."""
    gateway, _ = _app_objects(request)
    page = await find_images(gateway, ImageQuery.parse(request.query, gateway, caller_of(request)))
    data = [{"object": "image", **item} for item in page.data]
    return json_response({"object": "list", "data": data, "last_id": page.last_id, "has_more": page.has_more})


async def get_image(request: web.Request) -> web.StreamResponse:
    """GET /v1/images/{id}: metadata with a fresh URL, or the bytes with ``?content=1``."""
    gateway, _ = _app_objects(request)
    image_id = request.match_info["id"]
    metadata = await gateway.metadata(image_id, caller_of(request))
    if request.query.get("content", "").lower() in {"1", "true", "yes"}:
        data = await gateway.read(image_id)
        return image_response(data, metadata["mime_type"], image_id, "private, no-cache")
    url = await gateway.url(image_id)
    return json_response({"object": "image", "parent_ids": [], **metadata, "id": image_id, "url": url})


async def delete_image(request: web.Request) -> web.Response:
    """DELETE /v1/images/{id}."""
    gateway, _ = _app_objects(request)
    image_id = request.match_info["id"]
    await gateway.metadata(image_id, caller_of(request))  # another key's image is not found
    await gateway.delete(image_id)
    return json_response({"id": image_id, "object": "image", "deleted": True})
