"""The test kit's ProviderConformance, run for real against the plugin and FakeReplicate: refused
before any call, Replicate's failures (HTTP and prediction endings) mapped to their codes, a
cancelled call cancels its prediction, stored images carry every metadata field."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from imagegate._models import ImageRequest
from imagegate.testing import ProviderConformance, ProviderTarget

MODEL = "flux-2-klein-4b"

_INVALID_INPUT = {"title": "Input validation failed", "status": 422,
                  "detail": "- input.aspect_ratio: aspect_ratio must be one of the following\n",
                  "invalid_fields": [{"type": "invalid", "field": "input.aspect_ratio",
                                      "description": "aspect_ratio must be one of the following"}]}
_BOOM = {"title": "Internal Server Error", "detail": "Internal Server Error", "status": 500}
_HTTP_FAILURES: dict[str, Callable[[Any], None]] = {
    "authentication": lambda fake: fake.fail_like_replicate(401),
    "quota_exceeded": lambda fake: fake.fail_like_replicate(402),
    "not_found": lambda fake: fake.fail_like_replicate(404),
    "rate_limited": lambda fake: fake.fail_like_replicate(429),
    "invalid_request": lambda fake: fake.fail_with(422, _INVALID_INPUT),
    "upstream_error": lambda fake: fake.fail_with(500, _BOOM),
}
_PREDICTION_ENDINGS = {
    "content_filtered": ("failed", "NSFW content detected. Try running it again, or try a different prompt."),
    "timeout": ("canceled", None),
}


class TestReplicateConformance(ProviderConformance):
    @pytest_asyncio.fixture
    async def provider_target(self, fake: Any, make_gateway: Any) -> AsyncIterator[ProviderTarget]:
        gateway = await make_gateway(fake.base_url, max_retries=0)

        def fail_with(code: str) -> None:
            fake.finish_as("succeeded")
            if code in _PREDICTION_ENDINGS:
                fake.finish_as(*_PREDICTION_ENDINGS[code])
            else:
                _HTTP_FAILURES[code](fake)

        def hang() -> None:
            fake.keep_processing = True

        yield ProviderTarget(
            gateway=gateway, valid=ImageRequest(model=MODEL, prompt="a red kite over the sea"),
            invalid=ImageRequest(model=MODEL, prompt="p", params={"go_fast": "yes please"}),
            upstream_calls=lambda: fake.call_count, fail_with=fail_with,
            codes=[*_HTTP_FAILURES, *_PREDICTION_ENDINGS], hang=hang, cancelled=lambda: bool(fake.cancels))
        fake.assert_valid()  # whatever the suite made the plugin send, Replicate's spec takes
