"""``FakeGemini``: the Gemini API's ``generateContent`` and ``models`` routes on loopback, for tests.

It answers as the API does (google-genai 3.3.0's types and Google's error pages): an image as an
``inlineData`` part (with an optional text part beside it), ``usageMetadata`` per modality, a 400
``API_KEY_INVALID`` for a wrong key and a 403 for none, a 404 for a model it does not serve, a 400
``INVALID_ARGUMENT`` with a ``BadRequest`` field violation for an aspect ratio or image size no
Gemini model takes. What it receives is validated with ``google.genai.types`` (the camelCase body
as ``Content`` and ``GenerateContentConfig``), and so is every answer it builds
(``GenerateContentResponse``); problems land in ``schema_errors``. The helpers script the other
answers: :meth:`FakeGemini.error`, :meth:`FakeGemini.block_prompt`, :meth:`FakeGemini.withhold_image`,
:meth:`FakeGemini.answer_text_only`; :meth:`FakeUpstream.hang` makes answers slow. Needs the
``test`` extra (google-genai).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import orjson
import pybase64
from aiohttp import web

from imagegate.testing import FakeUpstream, ReceivedCall, image_bytes

from .catalog import IMAGE_SIZES, WIDE_ASPECT_RATIOS, builtin_models

__all__ = ["FakeGemini", "google_error", "image_bytes"]

_RPC = "type.googleapis.com/google.rpc."
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 402: "RESOURCE_EXHAUSTED",
                 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED",
                 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_BODY_FIELDS = {"contents", "generationConfig", "safetySettings", "systemInstruction", "tools", "toolConfig",
                "cachedContent"}
_VERTEX_ONLY = {"personGeneration", "prominentPeople", "outputMimeType", "outputCompressionQuality",
                "imageOutputOptions"}
_OUTPUT_TOKENS = {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}
_SIDE = {"512": 16, "1K": 32, "2K": 48, "4K": 64}
_PER_INPUT_IMAGE = 1120


def google_error(status: int, message: str, *, rpc_status: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A google.rpc.Status error body, as the Gemini API sends it."""
    name = rpc_status or _STATUS_NAMES.get(status, "UNKNOWN")
    return {"error": {"code": status, "message": message, "status": name, "details": details or []}}


def _side_lengths(ratio: str, size: str) -> tuple[int, int]:
    width, height = (int(x) for x in ratio.split(":"))
    base = _SIDE.get(size, 32)
    scale = base / max(width, height)
    return max(1, round(width * scale * 2)), max(1, round(height * scale * 2))


class FakeGemini(FakeUpstream):
    """The Gemini API (``/v1beta``) for the models of imagegate-gemini's catalog that still serve."""

    auth_header = "x-goog-api-key"
    auth_scheme = ""
    base_path = "/v1beta"

    def __init__(self, *, api_key: str | None = None, text: str | None = None,
                 served: set[str] | None = None, image_format: str = "png") -> None:
        super().__init__(api_key=None)  # the key is checked as Google does, in the routes
        self.key = api_key
        self.text = text
        self.image_format = image_format
        if served is None:
            served = {m.upstream for m in builtin_models() if m.status != "retired"}
        self.served = served
        self._ids = itertools.count(1)

    @property
    def root_url(self) -> str:
        """The host root (for the google-genai SDK's ``base_url``; it adds the version itself)."""
        return f"http://127.0.0.1:{self.port}/"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(f"{self.base_path}/models/{{model}}:generateContent", self.generate_content)
        router.add_get(f"{self.base_path}/models", self.list_models)

    def error_body(self, status: int, message: str) -> Any:
        return google_error(status, message)

    # scripting -------------------------------------------------------------------------------------

    def error(self, status: int, message: str, *, rpc_status: str | None = None,
              details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
              times: int = 1) -> None:
        """Answer the next ``times`` calls with this Google error."""
        self.fail_with(status, google_error(status, message, rpc_status=rpc_status, details=details), headers,
                       times=times)

    def rate_limit(self, retry_delay: str = "7s", *, daily: bool = False, times: int = 1) -> None:
        """A 429 RESOURCE_EXHAUSTED with ``QuotaFailure`` and ``RetryInfo``, as the API sends it."""
        quota = f"GenerateRequestsPer{'Day' if daily else 'Minute'}PerProjectPerModel"
        details = [
            {"@type": _RPC + "QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                "quotaId": quota, "quotaDimensions": {"model": "gemini-nano-banana-2.1"},
                "quotaValue": "10"}]},
            {"@type": _RPC + "Help", "links": [{
                "description": "Learn more about Gemini API quotas",
                "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": _RPC + "RetryInfo", "retryDelay": retry_delay},
        ]
        self.error(429, "You exceeded your current quota, please check your plan and billing details.",
                   details=details, times=times)

    def block_prompt(self, reason: str = "SAFETY", times: int = 1) -> None:
        """A 200 whose prompt was blocked before generation: ``promptFeedback.blockReason``, no candidates."""
        self.fail_with(200, self._checked({"promptFeedback": {"blockReason": reason},
                                           "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
                                           "modelVersion": "fake", "responseId": self._response_id()}),
                       times=times)

    def withhold_image(self, finish_reason: str = "IMAGE_SAFETY", text: str | None = None,
                       times: int = 1) -> None:
        """A 200 whose candidate ended with ``finish_reason`` and no image (optionally with text)."""
        parts = [{"text": text}] if text else []
        candidate: dict[str, Any] = {"finishReason": finish_reason, "index": 0}
        if parts:
            candidate["content"] = {"role": "model", "parts": parts}
        self.fail_with(200, self._checked({"candidates": [candidate], "usageMetadata": {
            "promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13},
            "modelVersion": "fake", "responseId": self._response_id()}), times=times)

    def answer_text_only(self, text: str = "I can describe it, but I won't draw it.", times: int = 1) -> None:
        """A 200 ``STOP`` answer with only a text part."""
        self.withhold_image("STOP", text, times=times)

    # routes ----------------------------------------------------------------------------------------

    def _key_problem(self, request: web.Request) -> web.Response | None:
        if "key" in request.query:
            self.schema_errors.append(f"{request.path}: the API key was sent in the URL")
        given = request.headers.get(self.auth_header)
        if self.key is None or given == self.key:
            return None
        if not given:
            return self.json(403, google_error(403, (
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.")))
        return self.json(400, google_error(400, "API key not valid. Please pass a valid API key.", details=[
            {"@type": _RPC + "ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
             "metadata": {"service": "generativelanguage.googleapis.com"}}]))

    async def generate_content(self, request: web.Request) -> web.Response:
        refused = self._key_problem(request)
        if refused is not None:
            return refused
        model = request.match_info["model"].removeprefix("models/")
        if model not in self.served:
            return self.json(404, google_error(404, (
                f"models/{model} is not found for API version v1beta, "
                "or is not supported for generateContent. "
                "Call ListModels to see the list of available models and their supported methods.")))
        body = orjson.loads(await request.read())  # aiohttp keeps the body the recorder read
        config = body.get("generationConfig", {}) if isinstance(body, dict) else {}
        image_config = config.get("imageConfig", {})
        ratio = image_config.get("aspectRatio", "1:1")
        size = image_config.get("imageSize", "1K")
        if ratio not in WIDE_ASPECT_RATIOS:
            return self._invalid("aspect_ratio", f"Unsupported aspect ratio: {ratio}")
        if size not in IMAGE_SIZES:
            return self._invalid("image_size", f"Unsupported image size: {size}")
        return self.json(200, self._checked(self._answer(model, body, config, ratio, size)))

    async def list_models(self, request: web.Request) -> web.Response:
        refused = self._key_problem(request)
        if refused is not None:
            return refused
        models = [{"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": ["generateContent",
                   "countTokens"]} for m in sorted(self.served)]
        models.append({"name": "models/gemini-3-flash", "supportedGenerationMethods": ["generateContent"]})
        return self.json(200, {"models": models})

    # answers ---------------------------------------------------------------------------------------

    def _invalid(self, field: str, message: str) -> web.Response:
        violation = {"field": f"generation_config.image_config.{field}", "description": message}
        details = [{"@type": _RPC + "BadRequest", "fieldViolations": [violation]}]
        return self.json(400, google_error(400, message, details=details))

    def _response_id(self) -> str:
        return f"fake-response-{next(self._ids)}"

    def _answer(self, model: str, body: dict[str, Any], config: dict[str, Any], ratio: str,
                size: str) -> dict[str, Any]:
        parts_in = body["contents"][-1]["parts"]
        prompt_text = " ".join(p.get("text", "") for p in parts_in)
        input_images = sum(1 for p in parts_in if "inlineData" in p)
        with_text = "TEXT" in config.get("responseModalities", ["TEXT", "IMAGE"]) and self.text
        width, height = _side_lengths(ratio, size)
        candidates = []
        for index in range(int(config.get("candidateCount", 1))):
            parts: list[dict[str, Any]] = [{"text": self.text}] if with_text else []
            data = image_bytes(width, height, self.image_format, seed=index + input_images)
            parts.append({"inlineData": {"mimeType": f"image/{self.image_format}",
                                         "data": pybase64.b64encode(data).decode("ascii")}})
            candidates.append({"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                               "index": index})
        text_in = len(prompt_text) // 4 + 1
        image_out = _OUTPUT_TOKENS.get(size, 1120) * len(candidates)
        text_out = 12 * len(candidates) if with_text else 0
        prompt_details = [{"modality": "TEXT", "tokenCount": text_in}]
        if input_images:
            prompt_details.append({"modality": "IMAGE", "tokenCount": input_images * _PER_INPUT_IMAGE})
        output_details = [{"modality": "IMAGE", "tokenCount": image_out}]
        if text_out:
            output_details.append({"modality": "TEXT", "tokenCount": text_out})
        prompt_tokens = text_in + input_images * _PER_INPUT_IMAGE
        return {
            "candidates": candidates,
            "usageMetadata": {
                "promptTokenCount": prompt_tokens, "candidatesTokenCount": image_out + text_out,
                "totalTokenCount": prompt_tokens + image_out + text_out,
                "promptTokensDetails": prompt_details, "candidatesTokensDetails": output_details},
            "modelVersion": model, "responseId": self._response_id(),
        }

    # validation ------------------------------------------------------------------------------------

    def _checked(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The answer, after checking it is a ``GenerateContentResponse`` (problems to ``schema_errors``)."""
        from google.genai import types

        self.schema_errors.extend(f"answer: {p}" for p in _problems(types.GenerateContentResponse, answer))
        return answer

    def problems_in(self, call: ReceivedCall) -> list[str]:
        if not call.path.endswith(":generateContent"):
            return []
        from google.genai import types

        body = call.body
        if not isinstance(body, dict):
            return ["the body is not a JSON object"]
        problems = [f"unknown field {name!r}" for name in sorted(set(body) - _BODY_FIELDS)]
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            problems.append("contents is missing or empty")
        for content in contents if isinstance(contents, list) else []:
            problems.extend(_problems(types.Content, content))
        config = body.get("generationConfig", {})
        problems.extend(_problems(types.GenerateContentConfig, config))
        image_config = config.get("imageConfig", {}) if isinstance(config, dict) else {}
        problems.extend(f"imageConfig.{name} is not supported in the Gemini API"
                        for name in sorted(_VERTEX_ONLY & set(image_config)))
        return problems


def _problems(model: Any, value: Any) -> list[str]:
    """Validation problems of ``value`` (camelCase JSON) against a google-genai type."""
    import pydantic

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.model_validate_json(orjson.dumps(value))
        except pydantic.ValidationError as exc:
            return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return [str(w.message) for w in caught if "is not a valid" in str(w.message)]
