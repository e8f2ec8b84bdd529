"""A loopback fake of today's (2026-12) OpenAI image API, and helpers to check bodies.

:class:`FakeOpenAI` (an :class:`imagegate.testing.FakeUpstream`) answers
``/v1/images/generations``, ``/v1/images/edits``, ``/v1/responses`` and ``/v1/models`` the way
the real service does (specs/2026/openai-images-2026.md): real PNG, JPEG, WEBP, animated GIF
(``frame_count`` frames of ``frame_duration_ms``) or SVG bytes of the requested size, ``usage``
and ``svg_usage``, server-sent events when ``stream`` is true, 404 ``model_not_found`` for retired
models and the retired ``/v1/images/variations``, and OpenAI's error bodies and headers.

Every request it receives is checked against the official SDK's request types (unknown keys
forbidden), the vendored 2026 request schemas (given their path) and what today's API refuses
(:mod:`.fake_requests`); every answer against the SDK's response models (:mod:`.fake_answers`).
Problems land in ``schema_errors`` and fail ``assert_valid()``. Used by this plugin's tests, the
end-to-end tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pybase64
from aiohttp import web

from imagegate.testing.fake_upstream import CALL_KEY, FakeUpstream, ReceivedCall
from imagegate.testing.images import image_bytes

from .fake_answers import answer_problems, gif_bytes, svg_bytes
from .fake_requests import REQUEST_SCHEMAS, RequestChecker, form_instance, refusal

__all__ = [
    "FakeOpenAI",
    "FormField",
    "REQUEST_SCHEMAS",
    "ReceivedCall",
    "SpecValidator",
    "form_fields",
    "form_instance",
    "image_bytes",
    "serve_in_thread",
]

SPEC_FILE = "openai.images-responses.openapi.json"
_TOKENS = {"low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
           "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
           "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208}}
_GIF_FRAMES, _GIF_FRAME_MS = 9, 200


class SpecValidator:
    """Validates instances against ``#/components/schemas/<name>`` of OpenAI's OpenAPI document."""

    def __init__(self, spec_path: str | Path) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.path = Path(spec_path)
        document = orjson.loads(self.path.read_bytes())
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry = Registry().with_resource("urn:openai-spec", resource)
        self.components = set(document["components"]["schemas"])

    def errors(self, component: str, instance: Any) -> list[str]:
        """Every violation, as ``path: message`` lines (empty when valid)."""
        from jsonschema import Draft202012Validator

        if component not in self.components:
            msg = f"{component} is not a schema of {self.path.name}"
            raise KeyError(msg)
        validator = Draft202012Validator({"$ref": f"urn:openai-spec#/components/schemas/{component}"},
                                         registry=self._registry)
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(instance)]

    def check(self, component: str, instance: Any) -> None:
        """Raise AssertionError listing the violations of ``instance``."""
        problems = self.errors(component, instance)
        if problems:
            raise AssertionError(f"{component}: " + "; ".join(problems[:5]))


@dataclass(frozen=True)
class FormField:
    """One multipart part as received."""

    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.value.decode()


async def form_fields(form: Any) -> list[FormField]:
    """The parts of an ``aiohttp.FormData`` as they would go over the wire (for unit tests)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    writer = form()
    body = await writer.as_bytes()
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {writer.content_type}\r\n\r\n".encode() + body)
    fields = []
    for part in message.iter_parts():
        fields.append(FormField(part.get_param("name", header="content-disposition"),
                                part.get_payload(decode=True) or b"", part.get_filename(),
                                part.get_content_type() if part.get_filename() else None))
    return fields


def _size(value: Any, default: str = "1024x1024") -> tuple[str, int, int]:
    size = value if isinstance(value, str) and "x" in value else default
    width, height = size.split("x")
    return size, int(width), int(height)


def _usage(text_tokens: int, image_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": output_tokens, "total_tokens": text_tokens + image_tokens + output_tokens}


def _error_object(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def _svg_usage(options: dict[str, Any], default_model: str, text_tokens: int) -> dict[str, Any]:
    """``svg_usage``: the SVG author's tokens (``svg.model``, else ``default_model``), reasoning
    tokens only when ``svg.reasoning.effort`` asks for reasoning."""
    svg = options.get("svg") if isinstance(options.get("svg"), dict) else {}
    reasoning = 48 if (svg.get("reasoning") or {}).get("effort") not in (None, "none") else 0
    return {"input_tokens": text_tokens + 300, "model": svg.get("model") or default_model,
            "output_tokens": 900 + reasoning, "reasoning_tokens": reasoning,
            "total_tokens": text_tokens + 1200 + reasoning}


class FakeOpenAI(FakeUpstream):
    """Today's OpenAI image endpoints on ``127.0.0.1`` (a free port), answering like the real API.

    ``request_schemas`` is the path of ``specs/2026/openai-images-2026.request-schemas.json``
    (:data:`REQUEST_SCHEMAS` under ``specs/``); without it requests are checked against the SDK's
    types and today's refusals only. ``upstream_models`` replaces what ``GET /v1/models`` lists.
    """

    def __init__(self, *, api_key: str | None = None, request_schemas: str | Path | None = None) -> None:
        super().__init__(api_key=api_key, strict_schema=True)
        self.checker = RequestChecker(request_schemas)
        self.upstream_models: list[dict[str, Any]] | None = None
        self._ids = itertools.count(1)

    def hang(self, enabled: bool = True) -> None:
        """Hold every following call (``hang(False)`` is :meth:`release`)."""
        if enabled:
            super().hang()
        else:
            self.release()

    def error_body(self, status: int, message: str) -> Any:
        """OpenAI's error object: a wrong key, an unknown parameter (``path: Extra inputs ...``
        from the SDK check) or an invalid value, with ``param`` as a dotted path."""
        if status == 401:
            masked = "sk-***" if not self.api_key else f"{self.api_key[:3]}***{self.api_key[-2:]}"
            return _error_object(f"Incorrect API key provided: {masked}. You can find your API key at "
                                 "https://platform.openai.com/account/api-keys.", None, "invalid_api_key")
        path, _, detail = message.partition(": ")
        param = path.replace("/", ".") if path and path != "<root>" else None
        if detail.startswith("Extra inputs are not permitted"):
            return _error_object(f"Unknown parameter: '{param}'.", param, "unknown_parameter")
        return _error_object(f"Invalid value for '{param}': {detail}" if param else message, param, "invalid_value")

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/images/generations", self._generations)
        router.add_post("/v1/images/edits", self._edits)
        router.add_post("/v1/images/variations", self._retired_endpoint)
        router.add_post("/v1/responses", self._responses)
        router.add_get("/v1/models", self._models)

    def problems_in(self, call: ReceivedCall) -> list[str]:
        """What the SDK's types and the 2026 schemas do not allow (answered 400, as the API does)."""
        kind = {"/v1/images/generations": "generate", "/v1/images/edits": "edit",
                "/v1/responses": "responses"}.get(call.path)
        return [] if kind is None else self.checker.problems(kind, call.body)

    async def _receive(self, request: web.Request) -> ReceivedCall:
        call = await super()._receive(request)
        if call.form:
            call.body = form_instance(call.form)
        return call

    # answers -----------------------------------------------------------------------------------

    def _error(self, status: int, message: str, param: str | None = None, code: str | None = None) -> web.Response:
        return self.json(status, _error_object(message, param, code))

    def _answer(self, kind: str, answer: dict[str, Any]) -> web.Response:
        self.schema_errors.extend(answer_problems(kind, answer))
        return self.json(200, answer, {"x-request-id": f"req_{next(self._ids)}"})

    def _picture(self, fmt: str, width: int, height: int, body: dict[str, Any]) -> bytes:
        seed = next(self._ids)
        if fmt == "gif":
            return gif_bytes(width, height, int(body.get("frame_count", _GIF_FRAMES)),
                             int(body.get("frame_duration_ms", _GIF_FRAME_MS)), seed=seed)
        if fmt == "svg":
            return svg_bytes(width, height, prompt=str(body.get("prompt", "")), seed=seed)
        return image_bytes(width, height, fmt, seed=seed, transparent=body.get("background") == "transparent")

    def _images(self, body: dict[str, Any], input_images: int) -> tuple[dict[str, Any], list[bytes]]:
        """An ImagesResponse without ``data``, and the pictures for it."""
        n = int(body.get("n") or 1)
        size, width, height = _size(body.get("size"))
        fmt = str(body.get("output_format") or "png")
        requested = str(body.get("quality") or "auto")
        quality = requested if requested in (*_TOKENS, "xhigh", "max") else "medium"
        tokens_size = size if size in _TOKENS["low"] else "1024x1024"
        pictures = [self._picture(fmt, width, height, body) for _ in range(n)]
        text_tokens = len(str(body.get("prompt", ""))) // 4 + 1
        output_tokens = _TOKENS.get(quality, _TOKENS["high"])[tokens_size] * n
        usage = _usage(text_tokens, 765 * input_images, output_tokens)
        answer: dict[str, Any] = {
            "created": int(time.time()), "background": "transparent" if body.get("background") == "transparent"
            else "opaque", "output_format": fmt, "quality": quality, "size": size, "usage": usage}
        answer["usage"]["output_tokens_details"] = {"image_tokens": output_tokens, "text_tokens": 0}
        identifier = body.get("safety_identifier") or body.get("user")
        if identifier:
            answer["safety_identifier"] = identifier
        if fmt == "svg":
            answer["svg_usage"] = _svg_usage(body, str(body.get("model")), text_tokens)
        return answer, pictures

    async def _answer_images(self, request: web.Request, operation: str) -> web.StreamResponse:
        call = request[CALL_KEY]
        refused = refusal(call.body, has_mask=any(p.name == "mask" for p in call.form))
        if refused is not None:  # a request today's API refuses is a problem too
            self.schema_errors.append(f"{call.method} {call.path}: {refused.param or '<root>'}: {refused.message} "
                                      f"(HTTP {refused.status})")
            return self._error(refused.status, refused.message, refused.param, refused.code)
        inputs = sum(1 for part in call.form if part.name in ("image", "image[]"))
        answer, pictures = self._images(call.body, inputs)
        if call.body.get("stream") is True:
            return await self._stream(request, call.body, answer, pictures, operation)
        answer["data"] = [{"b64_json": pybase64.b64encode(picture).decode()} for picture in pictures]
        return self._answer("images", answer)

    async def _stream(self, request: web.Request, body: dict[str, Any], answer: dict[str, Any],
                      pictures: list[bytes], operation: str) -> web.StreamResponse:
        kind = "image_edit" if operation == "edit" else "image_generation"
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "x-request-id": f"req_{next(self._ids)}"})
        await response.prepare(request)
        common = {"created_at": int(time.time()), "size": answer["size"], "quality": answer["quality"],
                  "background": answer["background"], "output_format": answer["output_format"]}
        usage = answer["usage"]
        per_image = _usage(usage["input_tokens_details"]["text_tokens"], usage["input_tokens_details"]["image_tokens"],
                           usage["output_tokens"] // len(pictures))
        for picture in pictures:
            encoded = pybase64.b64encode(picture).decode()
            for index in range(int(body.get("partial_images") or 0)):
                await self._send_event(response, kind, {"type": f"{kind}.partial_image", "b64_json": encoded,
                                                        "partial_image_index": index, **common})
            await self._send_event(response, kind, {"type": f"{kind}.completed", "b64_json": encoded,
                                                    "usage": per_image, **common})
        await response.write_eof()
        return response

    async def _send_event(self, response: web.StreamResponse, kind: str, event: dict[str, Any]) -> None:
        self.schema_errors.extend(answer_problems(kind, event))
        await response.write(b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n")

    async def _generations(self, request: web.Request) -> web.StreamResponse:
        return await self._answer_images(request, "generate")

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        return await self._answer_images(request, "edit")

    async def _retired_endpoint(self, request: web.Request) -> web.Response:
        return self._error(404, f"Invalid URL ({request.method} {request.path})")

    async def _responses(self, request: web.Request) -> web.Response:
        body = request[CALL_KEY].body
        tool = next((t for t in body.get("tools", []) if t.get("type") == "image_generation"), {})
        tool_model = str(tool.get("model") or "gpt-image-2.6-sunburst")
        retired = refusal({"model": tool_model})
        if retired is not None:
            return self._error(retired.status, retired.message, "tools[0].model", retired.code)
        size, width, height = _size(tool.get("size"))
        fmt = tool.get("output_format", "png")
        quality = tool.get("quality") if tool.get("quality") in (*_TOKENS, "xhigh", "max") else "medium"
        picture = self._picture(fmt, width, height, {**tool, "prompt": body.get("input", "")})
        text_in, text_out = len(str(body.get("input", ""))) // 4 + 40, 30
        item: dict[str, Any] = {
            "id": f"ig_{next(self._ids)}", "type": "image_generation_call", "status": "completed",
            "result": pybase64.b64encode(picture).decode(), "revised_prompt": f"An image of: {body.get('input')}",
            "size": size, "quality": quality, "output_format": fmt,
            "background": "transparent" if tool.get("background") == "transparent" else "opaque"}
        if fmt == "svg":  # the SVG author is the outer response model unless the tool names one
            item["svg_usage"] = _svg_usage(tool, str(body.get("model")), text_in)
        answer = {
            "id": f"resp_{next(self._ids)}", "object": "response", "created_at": int(time.time()),
            "status": "completed", "error": None, "incomplete_details": None, "instructions": None,
            "model": body.get("model"), "tools": body.get("tools", []), "tool_choice": body.get("tool_choice", "auto"),
            "parallel_tool_calls": True, "metadata": {}, "temperature": 1.0, "top_p": 1.0, "output": [item],
            "usage": {"input_tokens": text_in, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                      "output_tokens": text_out, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": text_in + text_out},
        }
        return self._answer("response", answer)

    async def _models(self, request: web.Request) -> web.Response:
        """``GET /v1/models`` as ``openai.types.Model`` items: the models served today (the retired
        ones are gone) plus ``upstream_models`` set by a test."""
        from .catalog import CURRENT_MODELS

        served = self.upstream_models if self.upstream_models is not None else [
            {"id": model_id, "shutdown_date": None} for model_id in CURRENT_MODELS]
        data = [{"id": m["id"], "object": "model", "created": 1776729600, "owned_by": "system",
                 "shutdown_date": m.get("shutdown_date")} for m in served]
        return self.json(200, {"object": "list", "data": data})


@contextmanager
def serve_in_thread(**kwargs: Any) -> Iterator[FakeOpenAI]:
    """Run a :class:`FakeOpenAI` on its own event loop in a thread (for CLI and sync tests)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-openai", daemon=True)
    thread.start()
    fake = FakeOpenAI(**kwargs)
    try:
        asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=30)
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
