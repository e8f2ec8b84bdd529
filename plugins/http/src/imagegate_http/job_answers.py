"""A job as the HTTP front-end answers it (``GET /v1/images/jobs/{id}``, the 202 of an async POST,
and the body of its webhook).

The job object is the core's public record (:meth:`imagegate.Gateway.jobs` ``.public``) with
``result`` rebuilt from the stored images into exactly the ``ImagesResponse`` the synchronous call
would have answered: the ``response_format`` chosen when it was sent (kept with the job), fresh
signed URLs, base64 read back from storage, ``created`` when the job ended. ``error`` is the object of the error envelope. Like
:func:`~imagegate_http.answers.images_answer`, the JSON comes in pieces so base64 is never copied
into one big string. A list item carries no ``result``: its job answers it by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from imagegate import ImagegateError

from .answers import images_answer

if TYPE_CHECKING:
    from imagegate import Gateway

__all__ = ["job_body", "job_pieces", "job_summary", "response_format_of"]

Pieces = list[bytes | bytearray | memoryview]


def response_format_of(record: dict[str, Any]) -> str:
    """How the job's caller wanted images: ``b64_json`` (OpenAI's default) or ``url``."""
    return str((record.get("delivery") or {}).get("response_format") or "b64_json")


def job_summary(gateway: Gateway, record: dict[str, Any]) -> dict[str, Any]:
    """The job object without its ``result`` (a list item)."""
    public = gateway.jobs.public(record)
    public.pop("result", None)
    return public


async def job_pieces(gateway: Gateway, record: dict[str, Any]) -> Pieces:
    """The job object as JSON pieces, with ``result`` rebuilt for a succeeded job."""
    public = job_summary(gateway, record)
    if record["status"] != "succeeded" or not record.get("result"):
        return [orjson.dumps({**public, "result": None})]
    response_format = response_format_of(record)
    try:
        result = await gateway.jobs.result(record, with_data=response_format == "b64_json")
    except ImagegateError as exc:  # e.g. its images were deleted since
        return [orjson.dumps({**public, "result": None, "error": {**exc.to_dict(), "type": exc.openai_type}})]
    head = orjson.dumps(public)
    created = int(record.get("finished_at") or record["created_at"])  # the same on every GET
    return [head[:-1], b',"result":', *images_answer(result, response_format, created), b"}"]  # type: ignore[arg-type]


async def job_body(gateway: Gateway, record: dict[str, Any]) -> bytes:
    """The job object as one JSON document (a webhook's body)."""
    return b"".join(bytes(piece) for piece in await job_pieces(gateway, record))
