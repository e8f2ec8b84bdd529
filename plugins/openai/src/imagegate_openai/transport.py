"""One POST to the OpenAI API over the gateway's aiohttp session, and reading its answer.

Headers: the gateway's (trace context) plus ``Authorization: Bearer``, ``OpenAI-Organization``
and ``OpenAI-Project`` when configured. Non-2xx answers become imagegate errors; a 2xx answer
that is not a JSON object is an :class:`~imagegate._errors.UpstreamError` that no retry fixes.
Streaming answers (``text/event-stream``) are read as server-sent events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson

from imagegate import UpstreamError
from imagegate.frontend import read_body

from .catalog import PROVIDER
from .inline_images import cut_images
from .streamed_images import ImagesReader
from .upstream_errors import error_from_body, error_from_response

if TYPE_CHECKING:
    import aiohttp

    from imagegate import ProviderCall

    from .settings import OpenAISettings

__all__ = ["Answer", "parse_json", "post", "read_events", "read_json"]


class Answer:
    """A 2xx answer: its parsed JSON and the request id OpenAI assigned (``x-request-id``).

    In an ImagesResponse read with ``images=True``, ``data[i].b64_json`` may be a
    :class:`~imagegate_openai.inline_images.RawBase64` rather than a string, or with ``decode=True``
    a :class:`~imagegate_openai.streamed_images.DecodedBase64`.
    """

    def __init__(self, payload: dict[str, Any], request_id: str | None) -> None:
        self.payload = payload
        self.request_id = request_id


def _headers(call: ProviderCall, settings: OpenAISettings, json_body: bool) -> dict[str, str]:
    headers = dict(call.headers)
    headers["Authorization"] = f"Bearer {settings.key() or ''}"
    if settings.organization:
        headers["OpenAI-Organization"] = settings.organization
    if settings.project:
        headers["OpenAI-Project"] = settings.project
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


def parse_json(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object from a 2xx body, or an UpstreamError that names what was wrong."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        msg = f"OpenAI answered {what} with malformed JSON ({len(body)} bytes)"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False) from None
    if not isinstance(parsed, dict):
        msg = f"OpenAI answered {what} with JSON that is not an object"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    return parsed


@asynccontextmanager
async def post(call: ProviderCall, settings: OpenAISettings, path: str, *,
               json: dict[str, Any] | None = None,
               form: aiohttp.FormData | None = None) -> AsyncIterator[aiohttp.ClientResponse]:
    """POST ``json`` (or a multipart ``form``) to ``base_url + path``; yield a 2xx response."""
    data: Any = orjson.dumps(json) if json is not None else form
    async with call.session.post(f"{settings.base_url}{path}", data=data,
                                 headers=_headers(call, settings, json is not None)) as response:
        if response.status >= 300:
            body = await response.read()
            raise error_from_response(response.status, body, response.headers, key=settings.key())
        yield response


async def read_json(response: aiohttp.ClientResponse, what: str, *, images: bool = False,
                    decode: bool = False) -> Answer:
    """The JSON object of a 2xx response; with ``images``, base64 images are cut out unparsed, and
    with ``decode`` too, decoded while the body arrives (their base64 text is not kept)."""
    payload = None
    if images and decode:
        reader = ImagesReader()
        async for chunk, _ in response.content.iter_chunks():
            reader.feed(chunk)
        payload = reader.payload()
        body = reader.body() if payload is None else b""
    else:
        body = await read_body(response)
    if payload is None:
        payload = cut_images(body) if images else None
    return Answer(payload if payload is not None else parse_json(body, what), response.headers.get("x-request-id"))


async def read_events(response: aiohttp.ClientResponse, settings: OpenAISettings,
                      what: str) -> AsyncIterator[dict[str, Any]]:
    """Server-sent events of a streaming answer, each as its JSON ``data``.

    An ``error`` event raises the mapped imagegate error.
    """
    data_lines: list[bytes] = []
    async for raw in response.content:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            data_lines.append(line[5:].lstrip())
        elif not line and data_lines:
            event = _event(b"\n".join(data_lines), settings, what)
            data_lines = []
            if event is None:
                return
            yield event
    if data_lines:
        event = _event(b"\n".join(data_lines), settings, what)
        if event is not None:
            yield event


def _event(payload: bytes, settings: OpenAISettings, what: str) -> dict[str, Any] | None:
    if payload == b"[DONE]":
        return None
    event = parse_json(payload, what)
    if event.get("type") == "error" or ("error" in event and "type" not in event):
        error = event.get("error") if isinstance(event.get("error"), dict) else event
        raise error_from_body(error, status=None, key=settings.key())
    return event
