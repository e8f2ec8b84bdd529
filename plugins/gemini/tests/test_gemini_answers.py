"""Reading answers and building bodies, without a server: usage without details, thought parts,
several images, malformed answers, and the error mapping's corner cases."""

from __future__ import annotations

import orjson
import pybase64
import pytest

from imagegate import ContentFiltered, QuotaExceeded, RateLimited, UpstreamError, Usage
from imagegate.testing import image_bytes
from imagegate_gemini.answers import parse_answer, usage_from
from imagegate_gemini.upstream_errors import error_from_response, redact


def _inline(data: bytes, mime: str = "image/png") -> dict[str, object]:
    return {"inlineData": {"mimeType": mime, "data": pybase64.b64encode(data).decode()}}


def test_usage_without_modality_details_counts_output_as_image() -> None:
    usage = usage_from({"promptTokenCount": 10, "candidatesTokenCount": 1120, "thoughtsTokenCount": 50})
    assert usage == Usage(input_text_tokens=10, output_image_tokens=1120, output_text_tokens=50)


def test_usage_with_details_splits_modalities_and_bills_thoughts_as_text() -> None:
    usage = usage_from({"promptTokenCount": 1300, "candidatesTokenCount": 1700, "thoughtsTokenCount": 200,
                        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 180},
                                                {"modality": "IMAGE", "tokenCount": 1120}],
                        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1680},
                                                    {"modality": "TEXT", "tokenCount": 20}]})
    assert usage == Usage(input_text_tokens=180, input_image_tokens=1120, output_image_tokens=1680,
                          output_text_tokens=220)


def test_thoughts_are_dropped_and_every_image_kept() -> None:
    first, second = image_bytes(8, 8, seed=1), image_bytes(8, 8, "jpeg", seed=2)
    body = orjson.dumps({"candidates": [{"content": {"parts": [
        {"text": "planning the layout", "thought": True}, {"text": "Two takes."},
        _inline(first), _inline(second, "image/jpeg")]}, "finishReason": "STOP"}], "responseId": "r-1"})
    result = parse_answer(body, "m generate", seed=3)
    assert [(i.data, i.mime_type) for i in result.images] == [(first, "image/png"), (second, "image/jpeg")]
    assert {i.revised_prompt for i in result.images} == {"Two takes."}
    assert {i.seed for i in result.images} == {3}
    assert result.provider_request_id == "r-1"


def test_images_of_one_candidate_survive_another_being_filtered() -> None:
    body = orjson.dumps({"candidates": [{"content": {"parts": [_inline(image_bytes(4, 4))]}, "finishReason": "STOP"},
                                        {"finishReason": "IMAGE_SAFETY"}]})
    assert len(parse_answer(body, "m generate").images) == 1


@pytest.mark.parametrize(("body", "error", "words"), [
    (b"<html>busy</html>", UpstreamError, "malformed JSON"),
    (b"[1]", UpstreamError, "not an object"),
    (orjson.dumps({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@"}}]}}]}),
     UpstreamError, "not base64"),
    (orjson.dumps({"candidates": []}), UpstreamError, "without any image"),
    (orjson.dumps({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "no"}}),
     ContentFiltered, "stage: prompt, reason: PROHIBITED_CONTENT"),
])
def test_unusable_answers(body: bytes, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        parse_answer(body, "m generate")
    assert words in caught.value.message
    assert caught.value.retryable is False


def test_a_zero_quota_is_quota_exceeded_and_a_spent_credit_too() -> None:
    zero = orjson.dumps({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": (
        "Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, model: gemini-3-pro-image")}})
    assert isinstance(error_from_response(429, zero, {}, key=None), QuotaExceeded)
    assert isinstance(error_from_response(402, b"{}", {}, key=None), QuotaExceeded)


def test_retry_after_header_when_no_retry_info() -> None:
    error = error_from_response(429, b"{}", {"Retry-After": "12"}, key=None)
    assert isinstance(error, RateLimited) and error.retry_after == 12.0


def test_redaction_of_the_key_and_key_shaped_text() -> None:
    assert redact("key my-own-key and AIzaSyABCDEFGHIJKLMNOPQRSTUVWXYZ012345678", "my-own-key") == (
        "key [redacted] and [redacted]")
