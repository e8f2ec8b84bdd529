from __future__ import annotations

import pytest

from imagegate import _errors as errors

# CONTRACT.md's table: code -> (retryable, HTTP status, OpenAI type)
TABLE = {
    "invalid_request": (False, 400, "invalid_request_error"),
    "authentication": (False, 401, "authentication_error"),
    "permission": (False, 403, "permission_error"),
    "not_found": (False, 404, "not_found_error"),
    "content_filtered": (False, 400, "invalid_request_error"),
    "rate_limited": (True, 429, "rate_limit_error"),
    "quota_exceeded": (False, 429, "insufficient_quota"),
    "model_retired": (False, 410, "invalid_request_error"),
    "unavailable": (True, 503, "server_error"),
    "timeout": (True, 504, "timeout_error"),
    "upstream_error": (True, 502, "upstream_error"),
    "storage_error": (True, 500, "storage_error"),
    "internal": (False, 500, "server_error"),
}


@pytest.mark.parametrize("code", sorted(TABLE))
def test_every_code_matches_the_contract_table(code: str) -> None:
    cls = errors.error_for_code(code)
    retryable, status, openai_type = TABLE[code]
    exc = cls("m")
    assert (exc.code, exc.retryable, cls.http_status, cls.openai_type) == (code, retryable, status, openai_type)


def test_codes_are_exactly_the_table() -> None:
    assert set(errors.CODES) == set(TABLE)


def test_to_dict_has_every_contract_field() -> None:
    exc = errors.RateLimited("slow down", provider="openai", param=None, retry_after=2.5)
    assert exc.to_dict() == {"code": "rate_limited", "message": "slow down", "retryable": True,
                             "provider": "openai", "param": None, "retry_after": 2.5}
    spooled = errors.StorageError("disk", spool_path="/s/x.png").to_dict()
    assert spooled["spool_path"] == "/s/x.png"


def test_retryable_can_be_overridden() -> None:
    assert errors.UpstreamError("bad bytes", retryable=False).retryable is False


def test_unknown_code_is_internal() -> None:
    assert errors.error_for_code("nope") is errors.InternalError


def test_model_retired_names_the_replacement_and_the_model_param() -> None:
    body = errors.ModelRetired("dall-e-3 was retired", replacement="gpt-image-2").to_dict()
    assert (body["code"], body["replacement"], body["param"]) == ("model_retired", "gpt-image-2", "model")


def test_an_error_never_carries_a_huge_message_or_parameter_name() -> None:
    huge = "x" * 1_000_000
    exc = errors.InvalidRequest(f"{huge} is wrong", param=huge)
    assert len(exc.message) == errors.MAX_MESSAGE_CHARS and exc.message.endswith("…")
    assert exc.param is not None and len(exc.param) == errors.MAX_PARAM_CHARS and exc.param.endswith("…")
    assert str(exc) == exc.message and exc.to_dict()["message"] == exc.message
    short = errors.InvalidRequest("fine", param="size")
    assert (short.message, short.param) == ("fine", "size")
