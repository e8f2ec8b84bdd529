"""The one error taxonomy every provider raises and every front-end maps.

Each error has a stable machine-readable ``code`` and says whether a retry can help. Front-ends
translate these in exactly one place each (the HTTP envelope, the MCP ``isError`` result, the CLI's
``{"error": ...}``); none invents codes of its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

MAX_MESSAGE_CHARS = 2048
"""The longest message an error carries: whatever a caller sent, the answer stays small."""
MAX_PARAM_CHARS = 200
__all__ = [
    "AuthenticationError",
    "ContentFiltered",
    "ImagegateError",
    "InternalError",
    "InvalidRequest",
    "ModelRetired",
    "NotFound",
    "PermissionDenied",
    "QuotaExceeded",
    "RateLimited",
    "StorageError",
    "Timeout",
    "Unavailable",
    "UpstreamError",
    "error_for_code",
]


class ImagegateError(Exception):
    """Base of every error the gateway reports to a user."""

    code: ClassVar[str] = "internal"
    default_retryable: ClassVar[bool] = False
    http_status: ClassVar[int] = 500
    openai_type: ClassVar[str] = "server_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        spool_path: str | None = None,
    ) -> None:
        message = _capped(message, MAX_MESSAGE_CHARS)
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.param = None if param is None else _capped(param, MAX_PARAM_CHARS)
        self.retry_after = retry_after
        self.retryable = self.default_retryable if retryable is None else retryable
        self.spool_path = spool_path

    def to_dict(self) -> dict[str, Any]:
        """The error as the contract's ``{"code", "message", ...}`` object."""
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "provider": self.provider,
            "param": self.param,
            "retry_after": self.retry_after,
        }
        if self.spool_path is not None:
            out["spool_path"] = self.spool_path
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


def _capped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


class InvalidRequest(ImagegateError):
    """The request cannot be served as given; fix the named parameter."""

    code = "invalid_request"
    http_status = 400
    openai_type = "invalid_request_error"


class AuthenticationError(ImagegateError):
    """A key is missing or was refused."""

    code = "authentication"
    http_status = 401
    openai_type = "authentication_error"


class PermissionDenied(ImagegateError):
    """The key is valid but may not do this (e.g. organisation not verified for a model)."""

    code = "permission"
    http_status = 403
    openai_type = "permission_error"


class NotFound(ImagegateError):
    """An image id, model or upstream resource does not exist."""

    code = "not_found"
    http_status = 404
    openai_type = "not_found_error"


class ContentFiltered(ImagegateError):
    """The provider's safety system refused the prompt or the output."""

    code = "content_filtered"
    http_status = 400
    openai_type = "invalid_request_error"


class ModelRetired(ImagegateError):
    """The model no longer exists upstream; ``replacement`` names the one to use instead."""

    code = "model_retired"
    http_status = 410
    openai_type = "invalid_request_error"

    def __init__(self, message: str, *, replacement: str | None = None, **fields: Any) -> None:
        fields.setdefault("param", "model")
        super().__init__(message, **fields)
        self.replacement = replacement

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["replacement"] = self.replacement
        return out


class RateLimited(ImagegateError):
    """Too many requests; ``retry_after`` says how long to wait when known."""

    code = "rate_limited"
    default_retryable = True
    http_status = 429
    openai_type = "rate_limit_error"


class QuotaExceeded(ImagegateError):
    """The account has no credit left; waiting will not help."""

    code = "quota_exceeded"
    http_status = 429
    openai_type = "insufficient_quota"


class Timeout(ImagegateError):
    """The request ran past its deadline."""

    code = "timeout"
    default_retryable = True
    http_status = 504
    openai_type = "timeout_error"


class UpstreamError(ImagegateError):
    """The provider failed or answered something unusable."""

    code = "upstream_error"
    default_retryable = True
    http_status = 502
    openai_type = "upstream_error"


class Unavailable(ImagegateError):
    """A shared dependency (e.g. Redis) is down; the request did not run. Retry later."""

    code = "unavailable"
    default_retryable = True
    http_status = 503
    openai_type = "server_error"


class StorageError(ImagegateError):
    """The storage backend failed. After a paid call ``spool_path`` says where the image waits and
    ``image_ids`` lists every image of the request (stored or spooled): each stays readable by id."""

    code = "storage_error"
    default_retryable = True
    http_status = 500
    openai_type = "storage_error"

    def __init__(self, message: str, *, image_ids: list[str] | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.image_ids = image_ids

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.image_ids is not None:
            out["image_ids"] = list(self.image_ids)
        return out


class InternalError(ImagegateError):
    """A bug in the gateway or a plugin."""

    code = "internal"


_BY_CODE: dict[str, type[ImagegateError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        AuthenticationError,
        PermissionDenied,
        NotFound,
        ContentFiltered,
        ModelRetired,
        RateLimited,
        QuotaExceeded,
        Unavailable,
        Timeout,
        UpstreamError,
        StorageError,
        InternalError,
    )
}

CODES: tuple[str, ...] = tuple(_BY_CODE)


def error_for_code(code: str) -> type[ImagegateError]:
    """The error class for a stable code (``internal`` for an unknown one)."""
    return _BY_CODE.get(code, InternalError)
