"""The error envelope follows CONTRACT.md's table; the size mapping picks the nearest ratio."""

from __future__ import annotations

import orjson
import pytest

from imagegate import _errors as errors
from imagegate_http.envelope import error_response
from imagegate_http.translate import nearest_aspect_ratio

TABLE = [
    (errors.InvalidRequest, 400, "invalid_request_error"),
    (errors.AuthenticationError, 401, "authentication_error"),
    (errors.PermissionDenied, 403, "permission_error"),
    (errors.NotFound, 404, "not_found_error"),
    (errors.ContentFiltered, 400, "invalid_request_error"),
    (errors.RateLimited, 429, "rate_limit_error"),
    (errors.QuotaExceeded, 429, "insufficient_quota"),
    (errors.Timeout, 504, "timeout_error"),
    (errors.UpstreamError, 502, "upstream_error"),
    (errors.StorageError, 500, "storage_error"),
    (errors.InternalError, 500, "server_error"),
]


@pytest.mark.parametrize(("cls", "status", "openai_type"), TABLE)
def test_status_and_type_per_contract(cls, status: int, openai_type: str) -> None:
    response = error_response(cls("it failed", provider="openai", param="size"))
    body = orjson.loads(response.body)
    assert response.status == status
    assert body["error"] == {"message": "it failed", "type": openai_type, "param": "size", "code": cls.code,
                             "retryable": cls.default_retryable, "provider": "openai", "retry_after": None}


def test_rate_limit_carries_retry_after_rounded_up() -> None:
    response = error_response(errors.RateLimited("slow down", retry_after=2.2))
    assert response.headers["Retry-After"] == "3"
    assert orjson.loads(response.body)["error"]["retry_after"] == 2.2
    assert "Retry-After" not in error_response(errors.QuotaExceeded("no credit")).headers


def test_storage_error_keeps_the_spool_path() -> None:
    body = orjson.loads(error_response(errors.StorageError("disk full", spool_path="/spool/x.png")).body)
    assert body["error"]["spool_path"] == "/spool/x.png"


@pytest.mark.parametrize(("size", "expected"), [
    ("1024x1024", "1:1"), ("1536x1024", "3:2"), ("1024x1536", "2:3"), ("1792x1024", "16:9"),
    ("1000x10", "21:9"), ("auto", None), ("0x10", None),
])
def test_nearest_aspect_ratio(size: str, expected: str | None) -> None:
    ratios = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "9:16", "9:21", "match_input_image"]
    assert nearest_aspect_ratio(size, ratios) == expected
