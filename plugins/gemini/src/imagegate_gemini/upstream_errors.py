"""Gemini API error answers mapped to imagegate's taxonomy, with keys scrubbed.

Errors arrive as ``{"error": {"code", "message", "status", "details": [...]}}`` (google.rpc.Status).
The HTTP status and ``status`` decide the code; ``details`` refine it: ``ErrorInfo`` (an invalid
key comes back as 400 ``API_KEY_INVALID``), ``BadRequest.fieldViolations`` (which parameter),
``QuotaFailure`` (a daily or zero quota is ``quota_exceeded``, not a wait) and ``RetryInfo``
(``retryDelay``, honoured as ``retry_after``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from imagegate import (
    AuthenticationError,
    ImagegateError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    UpstreamError,
)

from .catalog import PROVIDER
from .settings import KEY_VARIABLE

__all__ = ["error_from_response", "redact", "retry_delay"]

_KEY_SHAPE = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")
_MAX_MESSAGE = 500
_RPC = "type.googleapis.com/google.rpc."
_KEY_REASONS = {"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"}
# wire field (as it appears in a field path or message) -> imagegate parameter
_FIELD_PARAMS = {
    "aspect_ratio": "aspect_ratio", "aspectratio": "aspect_ratio",
    "image_size": "image_size", "imagesize": "image_size",
    "response_modalities": "response_modalities", "responsemodalities": "response_modalities",
    "candidate_count": "n", "candidatecount": "n",
    "temperature": "temperature", "top_p": "top_p", "topp": "top_p", "seed": "seed",
    "inline_data": "image", "inlinedata": "image", "mime_type": "image", "mimetype": "image",
    "contents": "prompt", "model": "model",
}
_FIELD_WORDS = re.compile(r"[A-Za-z_]+")
_FIELD_PATHS = re.compile(r"\b[a-z]+(?:[_.][A-Za-z_]+)+\b|\b[a-z]+[A-Z][A-Za-z]*\b")
"""Field-like words in a message (``image_config.aspect_ratio``, ``aspectRatio``), not prose."""


def redact(text: str, key: str | None) -> str:
    """``text`` without the key and without anything shaped like a Google API key."""
    if key:
        text = text.replace(key, "[redacted]")
    return _KEY_SHAPE.sub("[redacted]", text)


def _details(error: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    details = error.get("details")
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and d.get("@type") == _RPC + kind]


def retry_delay(error: Mapping[str, Any], headers: Mapping[str, str]) -> float | None:
    """Seconds to wait: ``RetryInfo.retryDelay`` (``"37s"``, ``"0.5s"``), else ``Retry-After``."""
    for info in _details(error, "RetryInfo"):
        match = _DURATION.match(str(info.get("retryDelay", "")).strip())
        if match:
            return float(match[1])
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


def _param(error: Mapping[str, Any], message: str) -> str | None:
    """The imagegate parameter a 400 is about: a field violation's path, else a field the message names."""
    paths = [str(v.get("field", "")) for d in _details(error, "BadRequest")
             for v in d.get("fieldViolations", []) if isinstance(v, dict)]
    for text in [*paths, *_FIELD_PATHS.findall(message)]:
        for word in reversed(_FIELD_WORDS.findall(text)):
            param = _FIELD_PARAMS.get(word.lower())
            if param:
                return param
    return None


def _quota_is_the_cause(error: Mapping[str, Any], status: int, message: str) -> bool:
    """A daily or zero quota, or spent credit: waiting a minute will not help."""
    if status == 402:
        return True
    for failure in _details(error, "QuotaFailure"):
        for violation in failure.get("violations", []):
            if not isinstance(violation, dict):
                continue
            quota = f"{violation.get('quotaId', '')} {violation.get('quotaMetric', '')}"
            if "PerDay" in quota or str(violation.get("quotaValue", "")) == "0":
                return True
    # every 429 says "check your plan and billing details"; only a zero limit is told by the message
    return "limit: 0" in message


def _error_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):  # some proxies wrap it
        parsed = parsed[0]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def error_from_response(status: int, body: bytes, headers: Mapping[str, str], *,
                        key: str | None) -> ImagegateError:
    """The imagegate error for one non-2xx answer of the Gemini API."""
    error = _error_object(body)
    rpc_status = str(error.get("status") or "")
    message = redact(str(error.get("message") or "").strip(), key)[:_MAX_MESSAGE] or f"HTTP {status}"
    said = f"Gemini answered {status} {rpc_status}".rstrip() + f": {message}"
    reasons = {str(d.get("reason")) for d in _details(error, "ErrorInfo")}
    if status == 401 or reasons & _KEY_REASONS or rpc_status == "UNAUTHENTICATED":
        return AuthenticationError(f"Gemini refused the API key ({KEY_VARIABLE}): {message}",
                                   provider=PROVIDER, param=KEY_VARIABLE)
    if status == 403:
        return PermissionDenied(said, provider=PROVIDER)
    if status == 404:
        return NotFound(f"{said} (the model may be retired; see `imagegate models`)", provider=PROVIDER,
                        param="model")
    if status in (402, 429) or rpc_status == "RESOURCE_EXHAUSTED":
        if _quota_is_the_cause(error, status, message):
            return QuotaExceeded(f"{said} (quota or billing; waiting will not help)", provider=PROVIDER)
        return RateLimited(said, provider=PROVIDER, retry_after=retry_delay(error, headers))
    if rpc_status == "FAILED_PRECONDITION":
        return PermissionDenied(f"{said} (enable billing on the key's project)", provider=PROVIDER)
    if 400 <= status < 500 and status not in (408, 499):
        return InvalidRequest(said, provider=PROVIDER, param=_param(error, message))
    return UpstreamError(said, provider=PROVIDER, retry_after=retry_delay(error, headers))
