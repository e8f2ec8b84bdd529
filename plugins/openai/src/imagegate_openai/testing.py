"""A loopback fake of the OpenAI API, and helpers to check bodies against OpenAI's published spec.

:class:`FakeOpenAI` answers ``/v1/images/generations``, ``/v1/images/edits``,
``/v1/images/variations`` and ``/v1/responses`` the way the real service does: real PNG, JPEG or
WEBP bytes of the requested size, ``usage`` for GPT image models, URL answers (served by the fake
itself) when a dall-e request asks for them, server-sent events when ``stream`` is true, and
OpenAI's error bodies and headers. It records what it receives, can fail or hang on demand, and,
given the spec's path, validates every request body (and its own answers) against the schemas.
Used by this plugin's tests and reusable by conformance suites and benchmarks.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pybase64

__all__ = [
    "FakeOpenAI",
    "FormField",
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
_INTEGER_FIELDS = {"n", "output_compression", "partial_images"}
_BOOLEAN_FIELDS = {"stream"}
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


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


def form_instance(fields: list[FormField]) -> dict[str, Any]:
    """A multipart body as the JSON instance its schema describes (files as placeholders,
    ``image[]`` parts as one ``image`` array, numbers and booleans typed)."""
    instance: dict[str, Any] = {}
    for part in fields:
        name = part.name.removesuffix("[]")
        if part.filename is not None:
            value: Any = f"<{len(part.value)} bytes {part.content_type}>"
        elif name in _INTEGER_FIELDS and part.text.lstrip("-").isdigit():
            value = int(part.text)
        elif name in _BOOLEAN_FIELDS:
            value = part.text == "true"
        else:
            value = part.text
        if part.name.endswith("[]"):
            instance.setdefault(name, []).append(value)
        else:
            instance[name] = value
    return instance


def image_bytes(width: int, height: int, fmt: str = "png", *, seed: int = 0, transparent: bool = False) -> bytes:
    """A real image file: a two-colour picture that differs with ``seed``."""
    from PIL import Image, ImageDraw

    mode = "RGBA" if transparent and fmt != "jpeg" else "RGB"
    base = ((seed * 67) % 256, (seed * 131 + 80) % 256, (seed * 29 + 160) % 256)
    image = Image.new(mode, (width, height), (*base, 0) if mode == "RGBA" else base)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4),
                                    fill=(255 - base[0], 255 - base[1], 255 - base[2]))
    buffer = io.BytesIO()
    image.save(buffer, _PIL_FORMATS[fmt])
    return buffer.getvalue()


@dataclass
class ReceivedCall:
    """A request the fake received; ``headers`` exclude Authorization (see ``authorized``)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    authorized: bool
    form: list[FormField] = field(default_factory=list)


@dataclass
class _Failure:
    status: int
    body: Any
    headers: dict[str, str]
    times: int


def _size(value: Any, default: str) -> tuple[str, int, int]:
    size = value if isinstance(value, str) and "x" in value else default
    width, height = size.split("x")
    return size, int(width), int(height)


class FakeOpenAI:
    """The OpenAI image endpoints on ``127.0.0.1`` (a free port), answering like the real API."""

    def __init__(self, *, spec_path: str | Path | None = None, api_key: str | None = None) -> None:
        self.validator = SpecValidator(spec_path) if spec_path else None
        self.api_key = api_key
        self.calls: list[ReceivedCall] = []
        self.schema_errors: list[str] = []
        self.force_urls = False
        self.upstream_models: list[dict[str, Any]] | None = None
        self._failures: list[_Failure] = []
        self._hanging = False
        self._release: asyncio.Event | None = None
        self._files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._runner: Any = None
        self.port: int | None = None

    # control -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, what PROVIDERS__OPENAI__BASE_URL should be."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def fail_with(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """Answer the next ``times`` API calls with this status, JSON body and headers."""
        self._failures.append(_Failure(status, body, dict(headers or {}), times))

    def hang(self, enabled: bool = True) -> None:
        """Make API calls wait without answering (until ``hang(False)`` or ``stop()``); call it
        from the fake's event loop."""
        self._hanging = enabled
        if enabled:
            self._release = asyncio.Event()
        elif self._release is not None:
            self._release.set()

    async def start(self) -> str:
        from aiohttp import web

        app = web.Application(client_max_size=1024 ** 3)
        app.router.add_post("/v1/images/generations", self._generations)
        app.router.add_post("/v1/images/edits", self._edits)
        app.router.add_post("/v1/images/variations", self._variations)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/files/{name}", self._file)
        self._release = asyncio.Event()
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # plumbing ----------------------------------------------------------------------------------

    async def _receive(self, request: Any) -> ReceivedCall:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        expected = f"Bearer {self.api_key}" if self.api_key else None
        authorized = expected is None or request.headers.get("Authorization") == expected
        form: list[FormField] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                form.append(FormField(part.name, bytes(await part.read()), part.filename,
                                      part.headers.get("Content-Type")))
            body: Any = form_instance(form)
        else:
            raw = await request.read()
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = raw
        call = ReceivedCall(request.method, request.path, headers, body, authorized, form)
        self.calls.append(call)
        return call

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
        from aiohttp import web

        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                            headers=headers)

    def _error(self, status: int, message: str, kind: str, param: str | None = None,
               code: str | None = None) -> Any:
        return self._json(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})

    async def _gate(self, call: ReceivedCall, component: str) -> Any:
        """A failure, hang, auth or schema answer for this call, or None to answer normally."""
        if self._hanging and self._release is not None:
            await self._release.wait()
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            if isinstance(failure.body, (bytes, str)):
                from aiohttp import web

                return web.Response(status=failure.status, body=failure.body, headers=failure.headers)
            return self._json(failure.status, failure.body, failure.headers)
        if not call.authorized:
            masked = "sk-***" if not self.api_key else f"{self.api_key[:3]}***{self.api_key[-2:]}"
            return self._error(401, f"Incorrect API key provided: {masked}.", "invalid_request_error",
                               code="invalid_api_key")
        if self.validator is not None:
            problems = self.validator.errors(component, call.body)
            if problems:
                self.schema_errors.extend(f"{component}: {p}" for p in problems)
                return self._error(400, f"Invalid request: {problems[0]}", "invalid_request_error")
        return None

    def _checked(self, component: str, answer: dict[str, Any]) -> dict[str, Any]:
        if self.validator is not None:
            self.schema_errors.extend(f"answer {component}: {p}" for p in self.validator.errors(component, answer))
        return answer

    # answers -----------------------------------------------------------------------------------

    def _images(self, body: dict[str, Any], operation: str, input_images: int) -> tuple[dict[str, Any], list[bytes]]:
        model = str(body.get("model") or "dall-e-2")
        gpt = model.startswith("gpt-image")
        n = int(body.get("n") or 1)
        size, width, height = _size(body.get("size"), "1024x1024")
        fmt = str(body.get("output_format") or "png") if gpt else "png"
        quality = str(body.get("quality") or "auto")
        transparent = body.get("background") == "transparent"
        pictures = [image_bytes(width, height, fmt, seed=next(self._ids), transparent=transparent)
                    for _ in range(n)]
        answer: dict[str, Any] = {"created": int(time.time())}
        if gpt:
            used_quality = quality if quality in _TOKENS else "medium"
            used_size = size if size in _TOKENS["low"] else "1024x1024"
            text_tokens = len(str(body.get("prompt", ""))) // 4 + 1
            image_tokens = 765 * input_images if operation == "edit" else 0
            output_tokens = _TOKENS[used_quality][used_size] * n
            answer.update(background="transparent" if transparent else "opaque", output_format=fmt,
                          quality=used_quality, size=used_size, usage={
                              "input_tokens": text_tokens + image_tokens,
                              "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
                              "output_tokens": output_tokens,
                              "total_tokens": text_tokens + image_tokens + output_tokens})
        return answer, pictures

    def _data(self, body: dict[str, Any], pictures: list[bytes]) -> list[dict[str, Any]]:
        model = str(body.get("model") or "dall-e-2")
        urls = not model.startswith("gpt-image") and (body.get("response_format", "url") == "url" or self.force_urls)
        data = []
        for picture in pictures:
            item: dict[str, Any] = {}
            if urls:
                name = f"img-{next(self._ids)}.png"
                self._files[name] = picture
                item["url"] = f"http://127.0.0.1:{self.port}/files/{name}"
            else:
                item["b64_json"] = pybase64.b64encode(picture).decode()
            if model == "dall-e-3":
                item["revised_prompt"] = f"A detailed rendering of: {body.get('prompt')}"
            data.append(item)
        return data

    async def _answer_images(self, request: Any, component: str, operation: str) -> Any:
        call = await self._receive(request)
        gated = await self._gate(call, component)
        if gated is not None:
            return gated
        body = call.body
        inputs = sum(1 for part in call.form if part.name in ("image", "image[]"))
        answer, pictures = self._images(body, operation, inputs)
        if body.get("stream") is True:
            return await self._stream(request, body, answer, pictures, operation)
        answer["data"] = self._data(body, pictures)
        return self._json(200, self._checked("ImagesResponse", answer), {"x-request-id": f"req_{next(self._ids)}"})

    async def _stream(self, request: Any, body: dict[str, Any], answer: dict[str, Any], pictures: list[bytes],
                      operation: str) -> Any:
        from aiohttp import web

        prefix = "image_edit" if operation == "edit" else "image_generation"
        partial_component = "ImageEditPartialImageEvent" if operation == "edit" else "ImageGenPartialImageEvent"
        done_component = "ImageEditCompletedEvent" if operation == "edit" else "ImageGenCompletedEvent"
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "req_stream"})
        await response.prepare(request)
        common = {"created_at": int(time.time()), "size": answer["size"], "quality": answer["quality"],
                  "background": answer["background"], "output_format": answer["output_format"]}
        per_image = dict(answer["usage"], output_tokens=answer["usage"]["output_tokens"] // len(pictures))
        per_image["total_tokens"] = per_image["input_tokens"] + per_image["output_tokens"]
        for picture in pictures:
            encoded = pybase64.b64encode(picture).decode()
            for index in range(int(body.get("partial_images") or 0)):
                event = {"type": f"{prefix}.partial_image", "b64_json": encoded, "partial_image_index": index,
                         **common}
                await self._send_event(response, self._checked(partial_component, event))
            event = {"type": f"{prefix}.completed", "b64_json": encoded, "usage": per_image, **common}
            await self._send_event(response, self._checked(done_component, event))
        await response.write_eof()
        return response

    @staticmethod
    async def _send_event(response: Any, event: dict[str, Any]) -> None:
        await response.write(b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n")

    async def _generations(self, request: Any) -> Any:
        return await self._answer_images(request, "CreateImageRequest", "generate")

    async def _edits(self, request: Any) -> Any:
        return await self._answer_images(request, "CreateImageEditRequest", "edit")

    async def _variations(self, request: Any) -> Any:
        return await self._answer_images(request, "CreateImageVariationRequest", "variation")

    async def _responses(self, request: Any) -> Any:
        call = await self._receive(request)
        gated = await self._gate(call, "CreateResponse")
        if gated is not None:
            return gated
        body = call.body
        tool = next((t for t in body.get("tools", []) if t.get("type") == "image_generation"), {})
        size, width, height = _size(tool.get("size"), "1024x1024")
        fmt = tool.get("output_format", "png")
        quality = tool.get("quality") if tool.get("quality") in _TOKENS else "medium"
        picture = image_bytes(width, height, fmt, seed=next(self._ids),
                              transparent=tool.get("background") == "transparent")
        text_in, text_out = len(str(body.get("input", ""))) // 4 + 40, 30
        answer = {
            "id": f"resp_{next(self._ids)}", "object": "response", "created_at": int(time.time()),
            "status": "completed", "error": None, "incomplete_details": None, "instructions": None,
            "model": body.get("model"), "tools": body.get("tools", []), "tool_choice": body.get("tool_choice"),
            "parallel_tool_calls": True, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
            "output": [{"id": f"ig_{next(self._ids)}", "type": "image_generation_call", "status": "completed",
                        "result": pybase64.b64encode(picture).decode(),
                        "revised_prompt": f"An image of: {body.get('input')}", "size": size,
                        "quality": quality, "output_format": fmt, "background": "opaque"}],
            "usage": {"input_tokens": text_in, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                      "output_tokens": text_out, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": text_in + text_out},
        }
        return self._json(200, self._checked("Response", answer), {"x-request-id": f"req_{next(self._ids)}"})

    async def _models(self, request: Any) -> Any:
        """``GET /v1/models`` as ``openai.types.Model`` items: the models served today (the retired
        ones are gone) plus ``upstream_models`` set by a test."""
        call = await self._receive(request)
        if not call.authorized:
            return self._error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
        from .catalog import CURRENT_MODELS

        served = self.upstream_models if self.upstream_models is not None else [
            {"id": model_id, "shutdown_date": None} for model_id in CURRENT_MODELS]
        data = [{"id": m["id"], "object": "model", "created": 1776729600, "owned_by": "system",
                 "shutdown_date": m.get("shutdown_date")} for m in served]
        return self._json(200, {"object": "list", "data": data})

    async def _file(self, request: Any) -> Any:
        from aiohttp import web

        data = self._files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404, text="BlobNotFound")
        return web.Response(body=data, content_type="image/png")


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
