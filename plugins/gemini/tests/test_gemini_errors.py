"""Every failure the Gemini API answers, mapped to imagegate's codes; refusals name stage and reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import pytest_asyncio

import imagegate_gemini
from imagegate import ImagegateError, ImageRequest
from imagegate.testing import ProviderConformance, ProviderTarget

from .support import KEY

MODEL = "gemini-nano-banana-2.1"
REQUEST = ImageRequest(model=MODEL, prompt="a red kite over the sea")


async def _fails(gateway: Any, request: ImageRequest = REQUEST, operation: str = "generate") -> ImagegateError:
    with pytest.raises(ImagegateError) as caught:
        await gateway.run(operation, request)
    assert KEY not in str(caught.value.to_dict())
    return caught.value


# validation before any call ----------------------------------------------------------------------

@pytest.mark.parametrize(("model", "params", "param", "allowed"), [
    ("gemini-3.1-flash-image", {"aspect_ratio": "7:3"}, "aspect_ratio", "16:9, 21:9, 1:4, 4:1, 1:8, 8:1, 9:21"),
    ("gemini-nano-banana-2.1", {"image_size": "1k"}, "image_size", "512, 1K, 2K, 4K"),
    ("gemini-nano-banana-2.1", {"response_modalities": "TEXT"}, "response_modalities", "TEXT,IMAGE, IMAGE"),
    ("gemini-3-pro-image", {"temperature": 3}, "temperature", "from 0 to 2"),
    ("gemini-3-pro-image", {"person_generation": "ALLOW_ALL"}, "person_generation", "aspect_ratio"),
])
async def test_bad_parameters_are_refused_naming_the_allowed_values(
        gateway: Any, fake: Any, model: str, params: dict[str, Any], param: str, allowed: str) -> None:
    error = await _fails(gateway, ImageRequest(model=model, prompt="p", params=params))
    assert (error.code, error.param) == ("invalid_request", param)
    assert allowed in error.message
    assert fake.call_count == 0


async def test_size_is_refused_pointing_at_aspect_ratio(gateway: Any, fake: Any) -> None:
    error = await _fails(gateway, ImageRequest(model=MODEL, prompt="p", size="1024x1024"))
    assert error.param == "size" and "aspect_ratio" in error.message and "16:9" in error.message


async def test_too_many_reference_images_are_refused(gateway: Any, fake: Any) -> None:
    from imagegate import ImageInput
    from imagegate.testing import image_bytes

    images = [ImageInput(kind="bytes", value=image_bytes(8, 8, seed=i)) for i in range(15)]
    error = await _fails(gateway, ImageRequest(model=MODEL, prompt="p", images=images), "edit")
    assert error.param == "image" and "14" in error.message
    assert fake.call_count == 0


async def test_a_retired_model_names_its_replacement(gateway: Any, fake: Any) -> None:
    error = await _fails(gateway, ImageRequest(model="gemini-3-pro-image-preview", prompt="p"))
    assert error.code == "model_retired" and error.replacement == "gemini-3-pro-image"
    assert fake.call_count == 0


async def test_no_key_is_refused_before_any_call(imagegate_make_gateway: Any, fake: Any) -> None:
    gateway = await imagegate_make_gateway(imagegate_gemini, providers={"gemini": {"base_url": fake.base_url}})
    error = await _fails(gateway)
    assert error.code == "authentication" and error.param == "PROVIDERS__GEMINI__API_KEY"
    assert "GEMINI_API_KEY" in error.message and "GOOGLE_API_KEY" in error.message
    assert fake.call_count == 0


# upstream errors -------------------------------------------------------------------------------------

async def test_a_wrong_key_is_authentication_without_the_key(imagegate_make_gateway: Any, fake: Any) -> None:
    wrong = "AIzaSyWRONG_wrong_wrong_wrong_0123456789"
    gateway = await imagegate_make_gateway(imagegate_gemini, providers={"gemini": {
        "api_key": wrong, "base_url": fake.base_url, "max_retries": 0}})
    error = await _fails(gateway)
    assert error.code == "authentication" and error.param == "PROVIDERS__GEMINI__API_KEY"
    assert "API key not valid" in error.message and wrong not in str(error.to_dict())


@pytest.mark.parametrize(("status", "rpc", "code"), [
    (401, "UNAUTHENTICATED", "authentication"),
    (403, "PERMISSION_DENIED", "permission"),
    (400, "FAILED_PRECONDITION", "permission"),
    (402, "RESOURCE_EXHAUSTED", "quota_exceeded"),
    (404, "NOT_FOUND", "not_found"),
    (500, "INTERNAL", "upstream_error"),
    (503, "UNAVAILABLE", "upstream_error"),
    (504, "DEADLINE_EXCEEDED", "upstream_error"),
])
async def test_error_statuses_map_to_codes(gateway: Any, fake: Any, status: int, rpc: str, code: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.error(status, f"failure with key {KEY} echoed", rpc_status=rpc)
    error = await _fails(gateway)
    assert KEY not in caplog.text
    assert error.code == code and error.provider == "gemini"
    assert error.retryable is (status >= 500)
    assert "[redacted]" in error.message


async def test_invalid_argument_names_the_parameter(gateway: Any, fake: Any) -> None:
    fake.error(400, "Unsupported image size: 4K", details=[{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "generation_config.image_config.image_size", "description": "bad"}]}])
    error = await _fails(gateway)
    assert (error.code, error.param) == ("invalid_request", "image_size")
    assert "Unsupported image size" in error.message


async def test_invalid_argument_param_from_the_message(gateway: Any, fake: Any) -> None:
    fake.error(400, "Invalid value at 'generation_config.image_config.aspect_ratio' (TYPE_STRING), \"x\"")
    assert (await _fails(gateway)).param == "aspect_ratio"


async def test_an_unserved_model_is_not_found(gateway: Any, fake: Any) -> None:
    fake.served.discard(MODEL)
    error = await _fails(gateway)
    assert (error.code, error.param) == ("not_found", "model")
    assert f"models/{MODEL} is not found" in error.message


async def test_rate_limit_honours_the_retry_delay(make_gateway: Any, fake: Any, imagegate_fake_sleep: Any) -> None:
    gateway = await make_gateway(max_retries=1)
    fake.rate_limit("37s")
    result = await gateway.run("generate", REQUEST)
    assert result.images and fake.call_count == 2
    assert imagegate_fake_sleep.delays == [37.0]


async def test_rate_limit_reports_retry_after(gateway: Any, fake: Any) -> None:
    fake.rate_limit("1.5s")
    error = await _fails(gateway)
    assert (error.code, error.retry_after, error.retryable) == ("rate_limited", 1.5, True)


async def test_a_daily_quota_is_quota_exceeded(make_gateway: Any, fake: Any) -> None:
    gateway = await make_gateway(max_retries=2)
    fake.rate_limit("3600s", daily=True)
    error = await _fails(gateway)
    assert error.code == "quota_exceeded" and error.retryable is False
    assert fake.call_count == 1


async def test_server_errors_are_retried(make_gateway: Any, fake: Any) -> None:
    gateway = await make_gateway(max_retries=1)
    fake.error(503, "The model is overloaded. Please try again later.")
    assert (await gateway.run("generate", REQUEST)).images
    assert fake.call_count == 2


async def test_a_slow_answer_times_out(make_gateway: Any, fake: Any) -> None:
    gateway = await make_gateway(timeout_s=0.3)
    fake.hang()
    error = await _fails(gateway)
    assert error.code == "timeout" and error.provider == "gemini"


# refusals and answers without an image -----------------------------------------------------------

@pytest.mark.parametrize("reason", ["SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "OTHER"])
async def test_a_blocked_prompt_is_content_filtered_at_the_prompt_stage(gateway: Any, fake: Any, reason: str) -> None:
    fake.block_prompt(reason)
    error = await _fails(gateway)
    assert (error.code, error.param) == ("content_filtered", "prompt")
    assert "stage: prompt" in error.message and f"reason: {reason}" in error.message
    fake.assert_valid()


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "SAFETY", "IMAGE_RECITATION"])
async def test_a_withheld_image_is_content_filtered_at_the_output_stage(gateway: Any, fake: Any, reason: str) -> None:
    fake.withhold_image(reason)
    error = await _fails(gateway)
    assert error.code == "content_filtered"
    assert "stage: output" in error.message and f"reason: {reason}" in error.message
    fake.assert_valid()


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "MAX_TOKENS"])
async def test_no_image_for_other_reasons_is_an_upstream_error_not_retried(
        make_gateway: Any, fake: Any, reason: str) -> None:
    gateway = await make_gateway(max_retries=2)
    fake.withhold_image(reason)
    error = await _fails(gateway)
    assert error.code == "upstream_error" and error.retryable is False
    assert "without any image" in error.message and reason in error.message
    assert fake.call_count == 1


async def test_a_text_only_answer_says_so_and_keeps_the_text(gateway: Any, fake: Any) -> None:
    fake.answer_text_only("I can only describe a kite.")
    error = await _fails(gateway)
    assert error.code == "upstream_error"
    assert "without any image" in error.message and "I can only describe a kite." in error.message


# the core's conformance suite ------------------------------------------------------------------------

_FAILURES = {
    "invalid_request": (400, "Request contains an invalid argument."),
    "authentication": (401, "Request had invalid authentication credentials."),
    "permission": (403, "Your API key doesn't have the required permissions."),
    "rate_limited": (429, "Resource has been exhausted (e.g. check quota)."),
    "upstream_error": (503, "The service is currently unavailable."),
}


class TestGeminiConformance(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, make_gateway: Any, fake: Any) -> ProviderTarget:
        gateway = await make_gateway()

        def fail_with(code: str) -> None:
            if code == "content_filtered":
                fake.block_prompt("SAFETY")
            else:
                status, message = _FAILURES[code]
                fake.error(status, message)

        return ProviderTarget(
            gateway=gateway, valid=REQUEST,
            invalid=ImageRequest(model=MODEL, prompt="p", params={"aspect_ratio": "2:1"}),
            upstream_calls=lambda: fake.call_count, fail_with=fail_with,
            codes=[*_FAILURES, "content_filtered"], hang=fake.hang, release=fake.release)
