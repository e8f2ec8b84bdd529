"""Every row of the error table, through a real gateway; the key never leaks anywhere."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pybase64
import pytest
from yarl import URL

from imagegate import ImageRequest
from imagegate._errors import (
    AuthenticationError,
    ContentFiltered,
    ImagegateError,
    InvalidRequest,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    UpstreamError,
)
from imagegate_openai.testing import image_bytes
from imagegate_openai.upstream_errors import redact, retry_after
from imagegate.testing.mock_http import mock_upstream

from .support import API_KEY, BASE_URL, error_body, images_answer

GENERATIONS = f"{BASE_URL}/images/generations"


async def failing_run(make_gateway: Any, caplog: pytest.LogCaptureFixture, answers: list[dict[str, Any]],
                      model: str = "gpt-image-2.6-sunburst") -> tuple[ImagegateError, int]:
    """Run once against the given answers; return the error and the number of upstream calls."""
    gateway = await make_gateway()
    caplog.set_level(logging.DEBUG)
    with mock_upstream() as mock:
        for answer in answers:
            mock.post(GENERATIONS, **answer)
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model=model))
        calls = len(mock.requests.get(("POST", URL(GENERATIONS)), []))
    error = info.value
    for text in (str(error), repr(error), str(error.to_dict()), caplog.text):
        assert API_KEY not in text
        assert "SECRET" not in text
    return error, calls


async def test_400_invalid_request_keeps_upstream_param(make_gateway: Any, caplog: Any) -> None:
    body = error_body("Invalid size '999x999'.", param="size", code="invalid_value")
    error, calls = await failing_run(make_gateway, caplog, [{"status": 400, "payload": body}])
    assert isinstance(error, InvalidRequest) and error.param == "size" and not error.retryable
    assert "Invalid size" in error.message and error.provider == "openai"
    assert calls == 1


async def test_401_authentication_even_when_upstream_echoes_the_key(make_gateway: Any, caplog: Any) -> None:
    body = error_body(f"Incorrect API key provided: {API_KEY}.", code="invalid_api_key")
    error, calls = await failing_run(make_gateway, caplog, [{"status": 401, "payload": body}])
    assert isinstance(error, AuthenticationError) and not error.retryable
    assert "PROVIDERS__OPENAI__API_KEY" in error.message and "[redacted]" in error.message
    assert calls == 1


async def test_403_permission(make_gateway: Any, caplog: Any) -> None:
    body = error_body("Your organization must be verified to use the model `gpt-image-2.6-sunburst`.",
                      kind="invalid_request_error")
    error, calls = await failing_run(make_gateway, caplog, [{"status": 403, "payload": body}])
    assert isinstance(error, PermissionDenied) and "verified" in error.message and calls == 1


async def test_429_insufficient_quota_is_not_retried(make_gateway: Any, caplog: Any) -> None:
    body = error_body("You exceeded your current quota.", kind="insufficient_quota", code="insufficient_quota")
    error, calls = await failing_run(make_gateway, caplog, [{"status": 429, "payload": body}] * 2)
    assert isinstance(error, QuotaExceeded) and not error.retryable and calls == 1


async def test_429_rate_limit_is_retried_after_retry_after(make_gateway: Any, caplog: Any, fake_sleep: Any) -> None:
    body = error_body("Rate limit reached for images per minute.", kind="requests", code="rate_limit_exceeded")
    answer = {"status": 429, "payload": body, "headers": {"Retry-After": "12"}}
    error, calls = await failing_run(make_gateway, caplog, [answer, answer])
    assert isinstance(error, RateLimited) and error.retryable and error.retry_after == 12.0
    assert calls == 2 and fake_sleep.delays == [12.0]


@pytest.mark.parametrize("body", [
    error_body("Your request was rejected by the safety system.", code="content_policy_violation"),
    error_body("Your request was rejected by the safety system.", code="moderation_blocked"),
    error_body("Your request was rejected by the safety system.", kind="image_generation_user_error"),
])
async def test_content_policy_is_content_filtered(make_gateway: Any, caplog: Any, body: dict[str, Any]) -> None:
    error, calls = await failing_run(make_gateway, caplog, [{"status": 400, "payload": body}])
    assert isinstance(error, ContentFiltered) and "safety system" in error.message and calls == 1


async def test_5xx_is_retried_then_upstream_error(make_gateway: Any, caplog: Any, fake_sleep: Any) -> None:
    body = error_body("The server had an error while processing your request.", kind="server_error")
    error, calls = await failing_run(make_gateway, caplog, [{"status": 500, "payload": body},
                                                            {"status": 503, "body": "upstream connect error"}])
    assert isinstance(error, UpstreamError) and error.retryable and calls == 2
    assert "HTTP 503" in error.message and len(fake_sleep.delays) == 1


async def test_5xx_then_success(make_gateway: Any, validator: Any, caplog: Any) -> None:
    gateway = await make_gateway()
    with mock_upstream() as mock:
        mock.post(GENERATIONS, status=502, body="Bad gateway")
        mock.post(GENERATIONS, payload=images_answer(validator))
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model="gpt-image-2.6-sunburst"))
    assert len(result.images) == 1


async def test_connection_reset_is_retried(make_gateway: Any, caplog: Any) -> None:
    error, calls = await failing_run(make_gateway, caplog, [
        {"exception": aiohttp.ServerDisconnectedError()}, {"exception": aiohttp.ClientOSError(104, "reset")}])
    assert isinstance(error, UpstreamError) and error.retryable and calls == 2


@pytest.mark.parametrize(("answer", "words"), [
    ({"body": b"{not json", "content_type": "application/json"}, "malformed JSON"),
    ({"payload": {"created": 1}}, "no data"),
    ({"payload": {"created": 1, "data": []}}, "no data"),
    ({"payload": {"created": 1, "data": [{"b64_json": "@@not base64@@"}]}}, "does not decode"),
    ({"payload": {"created": 1, "data": [{"revised_prompt": "x"}]}}, "neither b64_json nor url"),
    ({"payload": {"created": 1, "output_format": "png",
                  "data": [{"b64_json": pybase64.b64encode(image_bytes(8, 8, "jpeg")).decode()}]}},
     "declared image/png but the bytes are image/jpeg"),
])
async def test_unusable_answers_are_upstream_errors(make_gateway: Any, caplog: Any, answer: dict[str, Any],
                                                    words: str) -> None:
    error, calls = await failing_run(make_gateway, caplog, [{"status": 200, **answer}] * 2)
    assert isinstance(error, UpstreamError) and not error.retryable and calls == 1
    assert words in error.message


async def test_missing_key_fails_before_any_call(make_gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    gateway = await make_gateway(api_key=None)
    with mock_upstream() as mock:
        with pytest.raises(AuthenticationError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model="gpt-image-2.6-sunburst"))
        assert not mock.requests
    assert info.value.param == "PROVIDERS__OPENAI__API_KEY"
    assert "PROVIDERS__OPENAI__API_KEY" in info.value.message and "OPENAI_API_KEY" in info.value.message


def test_retry_after_forms() -> None:
    assert retry_after({"Retry-After": "3"}) == 3.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, now=1445412500.0) == 10.0
    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "20ms"}) == 360.0
    assert retry_after({"x-ratelimit-reset-tokens": "1.5s"}) == 1.5
    assert retry_after({"x-ratelimit-reset-tokens": "soon"}) is None
    assert retry_after({}) is None


def test_redact_removes_configured_key_and_key_shapes() -> None:
    text = redact("bad key sk-proj-abcdef123456 and custom-key-77", "custom-key-77")
    assert "sk-proj" not in text and "custom-key-77" not in text and text.count("[redacted]") == 2
