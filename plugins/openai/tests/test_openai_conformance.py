"""The test kit's ProviderConformance against the OpenAI plugin and the fake of today's API."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from imagegate import ImageRequest
from imagegate.testing import ProviderConformance, ProviderTarget
from imagegate_openai.testing import FakeOpenAI

MODEL = "gpt-image-2.6-sunburst"

# OpenAI's error answers (status, error object, headers) for each imagegate code.
_FAILURES: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    "invalid_request": (400, {"message": "Invalid value: 'sideways'. Supported values are: 'auto', "
                                         "'1024x1024', '1536x1024', and '1024x1536'.",
                              "type": "invalid_request_error", "param": "size", "code": "invalid_value"}, {}),
    "authentication": (401, {"message": "Incorrect API key provided: sk-***ef. You can find your API key at "
                                        "https://platform.openai.com/account/api-keys.",
                             "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}, {}),
    "permission": (403, {"message": "Your organization must be verified to use the model `gpt-image-2.6-sunburst`.",
                         "type": "invalid_request_error", "param": None, "code": None}, {}),
    "not_found": (404, {"message": "The model `gpt-image-2.6-sunburst` does not exist or you do not have "
                                   "access to it.", "type": "invalid_request_error", "param": None,
                        "code": "model_not_found"}, {}),
    "content_filtered": (400, {"message": "Your request was rejected by the safety system.",
                               "type": "image_generation_user_error", "param": None,
                               "code": "moderation_blocked"}, {}),
    "rate_limited": (429, {"message": "Rate limit reached for gpt-image-2.6-sunburst on images per min (IPM): "
                                      "Limit 5, Used 5, Requested 1.", "type": "requests", "param": None,
                           "code": "rate_limit_exceeded"}, {"Retry-After": "12"}),
    "quota_exceeded": (429, {"message": "You exceeded your current quota, please check your plan and billing "
                                        "details.", "type": "insufficient_quota", "param": None,
                             "code": "insufficient_quota"}, {}),
    "upstream_error": (500, {"message": "The server had an error while processing your request. Sorry about that!",
                             "type": "server_error", "param": None, "code": None}, {}),
}


class TestOpenAIConformance(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, make_gateway: Any, fake: FakeOpenAI) -> ProviderTarget:
        gateway = await make_gateway(fake.base_url, max_retries=0)

        def fail_with(code: str) -> None:
            status, error, headers = _FAILURES[code]
            fake.fail_with(status, {"error": error}, headers)

        return ProviderTarget(
            gateway=gateway, valid=ImageRequest(model=MODEL, prompt="a red kite over the sea", size="1024x1024"),
            invalid=ImageRequest(model=MODEL, prompt="p", params={"quality": "ultra"}),
            upstream_calls=lambda: fake.call_count, fail_with=fail_with, codes=list(_FAILURES),
            hang=fake.hang, release=fake.release)

    @pytest.fixture(autouse=True)
    def _requests_are_valid(self, fake: FakeOpenAI) -> Any:
        """Whatever the suite made the gateway send, the API takes."""
        yield
        fake.assert_valid()
