"""Replicate's answers mapped to imagegate's error taxonomy.

Replicate reports HTTP errors as problem JSON (``{"title", "detail", "status"}``, for invalid input
also ``invalid_fields``; older endpoints send only ``{"detail": ...}``), and a prediction that ran
and did not succeed through its ``status`` and ``error``. Messages carry Replicate's own words,
never the token or any image data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from imagegate import AuthenticationError, ContentFiltered, ImagegateError, InvalidRequest, NotFound, PermissionDenied, QuotaExceeded, RateLimited, Timeout, UpstreamError

from .settings import TOKEN_VARIABLE

__all__ = ["error_from_prediction", "error_from_response", "retry_after_seconds"]

_MAX_TEXT = 500
_FIELD = re.compile(r"\binput\.([A-Za-z_][A-Za-z0-9_]*)")
_FILTERED = re.compile(r"nsfw|safety|sensitive|flagged|E005", re.IGNORECASE)


def _text(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _problem(body: bytes) -> dict[str, Any]:
    import orjson

    try:
        parsed = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date)."""
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _field(problem: dict[str, Any], detail: str, renames: Mapping[str, str]) -> str | None:
    fields = problem.get("invalid_fields")
    candidates: list[str] = []
    if isinstance(fields, list):
        candidates += [str(f.get("field", "")) for f in fields if isinstance(f, dict)]
    candidates.append(detail)
    for candidate in candidates:
        match = _FIELD.search(candidate)
        if match:
            return renames.get(match[1], match[1])
    return None


def error_from_response(status: int, body: bytes, headers: Mapping[str, str], *,
                        renames: Mapping[str, str] | None = None) -> ImagegateError:
    """The error for a non-2xx answer; ``renames`` maps upstream input names to the gateway's
    (e.g. ``num_outputs`` -> ``n``) so a 422 names the parameter the caller actually sent."""
    problem = _problem(body)
    detail = _text(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    said = f"Replicate said: {detail}"
    if status == 401:
        return AuthenticationError(f"Replicate refused the API token; check {TOKEN_VARIABLE}. {said}",
                                   param=TOKEN_VARIABLE)
    if status == 403:
        return PermissionDenied(f"the Replicate token may not do this. {said}")
    if status == 402:
        return QuotaExceeded(f"the Replicate account is out of credit. {said}")
    if status == 404:
        return NotFound(f"Replicate has no such model or version. {said}", param="model")
    if status == 413:
        return InvalidRequest(f"Replicate refused an input file as too large. {said}", param="image")
    if status in (400, 422):
        param = _field(problem, detail, renames or {})
        return InvalidRequest(f"Replicate rejected the input. {said}", param=param)
    wait = retry_after_seconds(headers)
    if status == 429:
        return RateLimited(f"Replicate is rate limiting requests. {said}", retry_after=wait)
    if status >= 500:
        return UpstreamError(f"Replicate failed (HTTP {status}). {said}", retry_after=wait)
    return UpstreamError(f"Replicate answered HTTP {status}. {said}", retryable=False)


def error_from_prediction(prediction: dict[str, Any]) -> ImagegateError:
    """The error for a prediction that ended ``failed``, ``canceled`` or ``aborted``."""
    status = prediction.get("status")
    pid = prediction.get("id")
    if status == "failed":
        text = _text(prediction.get("error") or "no error text")
        if _FILTERED.search(text):
            return ContentFiltered(f"Replicate's safety checker blocked prediction {pid}: {text}")
        return UpstreamError(f"Replicate prediction {pid} failed: {text}", retryable=False)
    return Timeout(f"Replicate prediction {pid} was {status} before it finished (deadline or cancelled)")
