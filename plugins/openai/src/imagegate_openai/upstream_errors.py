"""OpenAI's error answers mapped to imagegate's taxonomy, with secrets scrubbed.

OpenAI answers errors as ``{"error": {"message", "type", "param", "code"}}``. The mapping follows
the status first (400 invalid, 401 key, 403 permission, 429 rate or quota, 5xx upstream), with
content-policy codes taking precedence so the user sees why a prompt was refused. No key ever
reaches a message: the configured key and anything shaped like an OpenAI key are redacted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from imagegate import AuthenticationError, ContentFiltered, ImagegateError, InvalidRequest, NotFound, PermissionDenied, QuotaExceeded, RateLimited, UpstreamError

from .catalog import PROVIDER
from .settings import KEY_VARIABLE

__all__ = ["CONTENT_POLICY_CODES", "error_from_body", "error_from_response", "redact", "retry_after"]

CONTENT_POLICY_CODES = frozenset({
    "content_policy_violation", "moderation_blocked", "image_content_policy_violation",
    "image_generation_user_error",
})
_KEY_SHAPE = re.compile(r"\b(?:sk|rk)-[A-Za-z0-9_\-*]{4,}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_MAX_MESSAGE = 500


def redact(text: str, key: str | None) -> str:
    """``text`` without the key and without anything shaped like an OpenAI key."""
    if key:
        text = text.replace(key, "[redacted]")
    return _KEY_SHAPE.sub("[redacted]", text)


def _duration_s(value: str) -> float | None:
    """Seconds in OpenAI's ``x-ratelimit-reset-*`` form: ``1s``, ``6m0s``, ``20ms``, ``0.5s``."""
    parts = _DURATION.findall(value.strip())
    if not parts or "".join(n + u for n, u in parts) != value.strip():
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait: ``Retry-After`` (seconds or HTTP date), ``retry-after-ms``, or the
    longer of the ``x-ratelimit-reset-*`` headers; None when the answer names no wait."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                return max(0.0, round(when - (time.time() if now is None else now), 3))
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    resets = [_duration_s(headers.get(name, "")) for name in
              ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")]
    known = [r for r in resets if r is not None]
    return max(known) if known else None


def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return {}


def error_from_body(error: Mapping[str, Any], *, status: int | None, key: str | None,
                    headers: Mapping[str, str] | None = None) -> ImagegateError:
    """The imagegate error for one OpenAI error object (also used for streamed error events)."""
    raw_message = str(error.get("message") or "").strip()
    message = redact(raw_message, key)[:_MAX_MESSAGE] or f"HTTP {status}"
    code = str(error.get("code") or "")
    kind = str(error.get("type") or "")
    param = error.get("param") if isinstance(error.get("param"), str) else None
    if code in CONTENT_POLICY_CODES or kind in CONTENT_POLICY_CODES:
        return ContentFiltered(f"OpenAI refused the request: {message}", provider=PROVIDER, param=param)
    if status == 401:
        msg = f"OpenAI refused the API key ({KEY_VARIABLE}): {message}"
        return AuthenticationError(msg, provider=PROVIDER, param=KEY_VARIABLE)
    if status == 403:
        return PermissionDenied(f"OpenAI denied access: {message}", provider=PROVIDER, param=param)
    if status == 404:
        return NotFound(f"OpenAI: {message}", provider=PROVIDER, param=param or "model")
    if status == 429 or kind == "insufficient_quota" or code == "insufficient_quota":
        if code == "insufficient_quota" or kind == "insufficient_quota":
            msg = f"the OpenAI account has no quota left (check plan and billing): {message}"
            return QuotaExceeded(msg, provider=PROVIDER)
        wait = retry_after(headers or {})
        return RateLimited(f"OpenAI rate limit: {message}", provider=PROVIDER, retry_after=wait)
    if status is not None and status >= 500:
        return UpstreamError(f"OpenAI failed (HTTP {status}): {message}", provider=PROVIDER)
    if status in (408, 409):
        return UpstreamError(f"OpenAI answered HTTP {status}: {message}", provider=PROVIDER)
    if status is not None and 400 <= status < 500:
        return InvalidRequest(f"OpenAI rejected the request: {message}", provider=PROVIDER, param=param)
    return UpstreamError(f"OpenAI reported an error: {message}", provider=PROVIDER, retryable=False)


def error_from_response(status: int, body: bytes, headers: Mapping[str, str], *,
                        key: str | None) -> ImagegateError:
    """The imagegate error for a non-2xx answer (any body, even one that is not JSON)."""
    import orjson

    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    error = _error_object(parsed)
    if not error:
        error = {"message": f"HTTP {status} with {'an empty' if not body else 'a non-JSON'} body"}
    return error_from_body(error, status=status, key=key, headers=headers)
