"""Every route of the front-end in one table; ``/openapi.json`` is generated from it.

Each entry names its view and what the OpenAPI document needs to describe it (summary, request
body kind, query parameters, answer kind). A test checks that the router and the document agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .envelope import json_response
from .openapi import build_openapi
from .views import files, gallery, health, images, jobs, models, transforms

if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.typedefs import Handler

__all__ = ["ROUTES", "Route", "add_routes"]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    view: Handler
    operation_id: str
    summary: str
    body: str | None = None
    query: tuple[str, ...] = ()
    answer: str = "json"
    tag: str = "images"


async def openapi_view(request: web.Request) -> web.Response:
    """GET /openapi.json."""
    return json_response(build_openapi(request.app, ROUTES))


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/images/generations", images.generations, "createImage",
          "Generate images from a prompt (OpenAI's shape; stream=true for server-sent events).",
          body="generation", answer="images"),
    Route("POST", "/v1/images/edits", images.edits, "createImageEdit",
          "Edit images (multipart: image or image[], optional mask or markup).", body="edit", answer="images"),
    Route("POST", "/v1/images/variations", images.variations, "createImageVariation",
          "Make variations of an image (multipart: image).", body="variation", answer="images"),
    Route("GET", "/v1/images", images.list_images, "listImages",
          "Stored images' metadata, newest first; filtered by model, creation time or parent.",
          query=("limit", "before", "model", "since", "until", "parent"), answer="image_list"),
    Route("GET", "/v1/images/jobs", jobs.list_jobs, "listImageJobs",
          "The caller's jobs, newest first (without result: GET the job for it).",
          query=("limit", "after", "before"), answer="job_list", tag="jobs"),
    Route("GET", "/v1/images/jobs/{id}", jobs.get_job, "getImageJob",
          "One job; with wait=N (at most 60) the answer waits until it ends or N seconds pass.",
          query=("wait",), answer="job", tag="jobs"),
    Route("DELETE", "/v1/images/jobs/{id}", jobs.cancel_job, "cancelImageJob",
          "Cancel a queued or running job (its upstream too, where the provider can); paid work is still stored.",
          answer="job", tag="jobs"),
    Route("GET", "/v1/images/{id}", images.get_image, "getImage",
          "A stored image's metadata with a fresh URL; the bytes with content=1.", query=("content",),
          answer="stored_image"),
    Route("POST", "/v1/images/{id}/transform", transforms.transform, "transformImage",
          "A new stored image made from this one: resize (fit/fill), crop, thumbnail or convert.",
          body="transform", answer="stored_image"),
    Route("GET", "/v1/images/{id}/thumbnail", transforms.thumbnail, "getImageThumbnail",
          "The image's thumbnail (longest side size), made once and then reused.", query=("size",),
          answer="bytes"),
    Route("DELETE", "/v1/images/{id}", images.delete_image, "deleteImage", "Delete a stored image.",
          answer="deleted"),
    Route("GET", "/v1/models", models.list_models, "listModels",
          "Every model of every installed provider, with its capabilities.", answer="model_list", tag="models"),
    Route("GET", "/v1/models/{model}", models.get_model, "retrieveModel",
          "One model by id, qualified id or alias.", answer="model", tag="models"),
    Route("GET", "/files/{id}", files.signed_file, "getSignedFile",
          "An image behind a signed, expiring URL (no key needed).", query=("exp", "sig"), answer="bytes",
          tag="files"),
    Route("GET", "/gallery", gallery.gallery_page, "gallery",
          "A browser page over the stored images (asks for a key when /v1 needs one).", answer="html",
          tag="gallery"),
    Route("GET", "/gallery/{asset}", gallery.gallery_asset, "galleryAsset", "The gallery page's script or style.",
          answer="asset", tag="gallery"),
    Route("GET", "/healthz", health.healthz, "healthz", "The process is up.", tag="operations"),
    Route("GET", "/readyz", health.readyz, "readyz", "Plugins are loaded and storage is writable.",
          tag="operations"),
    Route("GET", "/openapi.json", openapi_view, "openapi", "This document.", tag="operations"),
)


def add_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.view, name=route.operation_id)
