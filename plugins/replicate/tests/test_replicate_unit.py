"""The provider against a mocked Replicate API (aioresponses): bodies, headers, paths, errors."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from imagegate.testing.mock_http import mock_upstream as aioresponses
from jsonschema import Draft202012Validator, FormatChecker
from yarl import URL

from imagegate._errors import ImagegateError
from imagegate._models import ImageRequest
from imagegate_replicate.fake_schemas import COMMUNITY, COMMUNITY_MODEL, COMMUNITY_VERSION
from imagegate_replicate.testing import load_spec_schemas

API = "https://api.replicate.com/v1"
FLUX_DEV = f"{API}/models/black-forest-labs/flux-dev/predictions"
FLUX_PRO = f"{API}/models/black-forest-labs/flux-1.1-pro/predictions"
VERSION = "6e4a938f85952bdabcc15aa329178c4d681c52bf25a0342403287dc26944661d"
TOKEN = "r8_test"


@pytest.fixture
def schemas(spec_path: Any) -> dict[str, Any]:
    return load_spec_schemas(spec_path)


def _valid(schemas: dict[str, Any], name: str, value: Any) -> None:
    errors = [e.message for e in Draft202012Validator(schemas[name], format_checker=FormatChecker()).iter_errors(value)]
    assert errors == [], errors


def _png(color: int = 10) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 16), (color, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def prediction(pid: str, status: str, *, output: Any = None, error: str | None = None,
               model: str = "black-forest-labs/flux-dev") -> dict[str, Any]:
    return {
        "id": pid, "model": model, "version": VERSION, "input": {"prompt": "a cat"}, "logs": "",
        "output": output, "data_removed": False, "error": error, "status": status,
        "created_at": "2025-06-01T10:00:00.000000Z", "source": "api",
        "urls": {"get": f"{API}/predictions/{pid}", "cancel": f"{API}/predictions/{pid}/cancel",
                 "web": f"https://replicate.com/p/{pid}"},
    }


def _sent(mocked: aioresponses, method: str, url: str) -> list[Any]:
    return mocked.requests.get((method, URL(url)), [])


async def test_sync_path_sends_prefer_wait_and_cancel_after(make_gateway, schemas) -> None:
    gateway = await make_gateway(API)
    files = ["https://replicate.delivery/xezq/a/out-0.png", "https://replicate.delivery/xezq/a/out-1.png"]
    answer = prediction("p1", "succeeded", output=files)
    _valid(schemas, "schemas_prediction_response", answer)
    events: list[tuple[str, dict[str, Any]]] = []
    with aioresponses() as mocked:
        mocked.post(FLUX_DEV, status=201, payload=answer)
        mocked.get(files[0], body=_png(1), content_type="image/png")
        mocked.get(files[1], body=_png(2), content_type="image/png")
        result = await gateway.run("generate", ImageRequest(
            prompt="a cat", model="flux-dev", n=2, params={"output_format": "png", "seed": 7}),
            progress=lambda message, data: events.append((message, data)))
        (create,) = _sent(mocked, "POST", FLUX_DEV)
        assert not _sent(mocked, "GET", f"{API}/predictions/p1")
    body = create.kwargs["json"]
    assert body == {"input": {"prompt": "a cat", "output_format": "png", "seed": 7, "num_outputs": 2}}
    _valid(schemas, "schemas_prediction_request", body)
    headers = create.kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Prefer"] == "wait=60"
    assert re.fullmatch(r"\d+s", headers["Cancel-After"]) and 5 <= int(headers["Cancel-After"][:-1]) <= 600
    assert [image.mime_type for image in result.images] == ["image/png", "image/png"]
    assert result.cost.estimated_usd == pytest.approx(0.05)
    metadata = await gateway.metadata(result.images[0].id)
    assert metadata["provider_request_id"] == "p1" and metadata["model_version"] == VERSION
    assert ("status", {"status": "succeeded", "prediction_id": "p1"}) in events


async def test_polling_path_follows_urls_get(make_gateway, schemas) -> None:
    gateway = await make_gateway(API)
    file = "https://replicate.delivery/xezq/b/out.webp"
    answers = [prediction("p2", "starting", model="black-forest-labs/flux-1.1-pro"),
               prediction("p2", "processing", model="black-forest-labs/flux-1.1-pro"),
               prediction("p2", "succeeded", output=file, model="black-forest-labs/flux-1.1-pro")]
    for answer in answers:
        _valid(schemas, "schemas_prediction_response", answer)
    from PIL import Image

    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, format="WEBP")
    statuses: list[str] = []
    with aioresponses() as mocked:
        mocked.post(FLUX_PRO, status=201, payload=answers[0])
        mocked.get(f"{API}/predictions/p2", payload=answers[1])
        mocked.get(f"{API}/predictions/p2", payload=answers[2])
        mocked.get(file, body=webp.getvalue(), content_type="image/webp")
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro"),
                                   progress=lambda message, data: statuses.append(data.get("status")))
        (create,) = _sent(mocked, "POST", FLUX_PRO)
        polls = _sent(mocked, "GET", f"{API}/predictions/p2")
    assert "Prefer" not in create.kwargs["headers"]
    assert create.kwargs["json"] == {"input": {"prompt": "a cat"}}
    assert len(polls) == 2 and all(p.kwargs["headers"]["Authorization"] == f"Bearer {TOKEN}" for p in polls)
    assert statuses == ["starting", "processing", "succeeded"]
    assert result.images[0].mime_type == "image/webp"


ERROR_ROWS = [
    (401, {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401},
     {}, "authentication", "PROVIDERS__REPLICATE__API_TOKEN", None),
    (402, {"title": "Insufficient credit", "detail": "You have insufficient credit to run this model.", "status": 402},
     {}, "quota_exceeded", None, None),
    (403, {"title": "Forbidden", "detail": "You do not have permission.", "status": 403}, {}, "permission", None, None),
    (404, {"detail": "Not found."}, {}, "not_found", "model", None),
    (413, {"detail": "Request Entity Too Large"}, {}, "invalid_request", "image", None),
    (422, {"title": "Input validation failed", "status": 422,
           "detail": "- input.aspect_ratio: aspect_ratio must be one of the following: \"1:1\"...",
           "invalid_fields": [{"type": "enum", "field": "input.aspect_ratio", "description": "must be one of"}]},
     {}, "invalid_request", "aspect_ratio", None),
    (422, {"title": "Input validation failed", "status": 422,
           "detail": "- input.num_outputs: Must be less than or equal to 4"}, {}, "invalid_request", "n", None),
    (429, {"title": "Request was throttled.", "detail": "Request was throttled. Expected available in 7 seconds.",
           "status": 429}, {"Retry-After": "7"}, "rate_limited", None, 7.0),
    (503, {"title": "Service Unavailable", "detail": "upstream overloaded", "status": 503}, {}, "upstream_error",
     None, None),
]


@pytest.mark.parametrize(("status", "body", "headers", "code", "param", "retry_after"), ERROR_ROWS)
async def test_http_error_rows(make_gateway, status, body, headers, code, param, retry_after) -> None:
    gateway = await make_gateway(API, max_retries=0)
    with aioresponses() as mocked:
        mocked.post(FLUX_DEV, status=status, payload=body, headers=headers)
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
    error = info.value
    assert (error.code, error.param, error.retry_after, error.provider) == (code, param, retry_after, "replicate")
    assert error.retryable == (code in ("rate_limited", "upstream_error"))
    assert body.get("detail", "")[:20] in error.message
    assert TOKEN not in str(error.to_dict())


async def test_rate_limit_retried_after_retry_after(make_gateway, sleeps) -> None:
    gateway = await make_gateway(API)
    file = "https://replicate.delivery/xezq/c/out.png"
    with aioresponses() as mocked:
        mocked.post(FLUX_DEV, status=429, headers={"Retry-After": "3"},
                    payload={"title": "Request was throttled.", "detail": "Request was throttled.", "status": 429})
        mocked.post(FLUX_DEV, status=201, payload=prediction("p3", "succeeded", output=[file]))
        mocked.get(file, body=_png(), content_type="image/png")
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev",
                                                            params={"output_format": "png"}))
        assert len(_sent(mocked, "POST", FLUX_DEV)) == 2
    assert sleeps == [3.0]
    assert len(result.images) == 1


@pytest.mark.parametrize(("status", "error", "code", "retryable"), [
    ("failed", "CUDA out of memory", "upstream_error", False),
    ("failed", "NSFW content detected. Try running it again, or try a different prompt.", "content_filtered", False),
    ("failed", "Prompt or output flagged as sensitive (E005).", "content_filtered", False),
    ("canceled", None, "timeout", True),
    ("aborted", None, "timeout", True),
])
async def test_prediction_end_states(make_gateway, schemas, status, error, code, retryable) -> None:
    gateway = await make_gateway(API, max_retries=0)
    answer = prediction("p4", status, error=error)
    _valid(schemas, "schemas_prediction_response", answer)
    with aioresponses() as mocked:
        mocked.post(FLUX_DEV, status=201, payload=answer)
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
        assert not _sent(mocked, "POST", f"{API}/predictions/p4/cancel")
    assert (info.value.code, info.value.retryable) == (code, retryable)
    if error:
        assert error[:20] in info.value.message


async def test_poll_failure_cancels_the_running_prediction(make_gateway) -> None:
    gateway = await make_gateway(API, max_retries=0)
    with aioresponses() as mocked:
        mocked.post(FLUX_PRO, status=201, payload=prediction("p5", "starting"))
        mocked.get(f"{API}/predictions/p5", status=401, payload={"detail": "Invalid token."})
        mocked.post(f"{API}/predictions/p5/cancel", payload=prediction("p5", "canceled"))
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro"))
        assert len(_sent(mocked, "POST", f"{API}/predictions/p5/cancel")) == 1
    assert info.value.code == "authentication"


async def test_foreign_urls_get_never_receive_the_token(make_gateway) -> None:
    gateway = await make_gateway(API)
    answer = prediction("p6", "starting")
    answer["urls"]["get"] = "https://evil.example/steal"
    with aioresponses() as mocked:
        mocked.post(FLUX_PRO, status=201, payload=answer)
        mocked.get(f"{API}/predictions/p6", payload=prediction("p6", "succeeded", output="https://replicate.delivery/o.png"))
        mocked.get("https://replicate.delivery/o.png", body=_png(), content_type="image/png")
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-1.1-pro",
                                                            params={"output_format": "png"}))
        assert not _sent(mocked, "GET", "https://evil.example/steal")
    assert len(result.images) == 1


async def test_community_version_validated_before_any_prediction(make_gateway, schemas) -> None:
    gateway = await make_gateway(API)
    version_url = f"{API}/models/{COMMUNITY_MODEL}/versions/{COMMUNITY_VERSION}"
    model_id = f"replicate/{COMMUNITY_MODEL}:{COMMUNITY_VERSION}"
    file = "https://replicate.delivery/xezq/d/out.png"
    with aioresponses() as mocked:
        mocked.get(version_url, payload={"id": COMMUNITY_VERSION, "openapi_schema": COMMUNITY,
                                         "created_at": "2025-01-01T00:00:00Z", "cog_version": "0.13.6"})
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model=model_id, params={"width": 100}))
        assert info.value.code == "invalid_request" and info.value.param == "width"
        assert not _sent(mocked, "POST", f"{API}/predictions")
        mocked.post(f"{API}/predictions", status=201,
                    payload=prediction("p7", "starting", model=COMMUNITY_MODEL))
        mocked.get(f"{API}/predictions/p7", payload=prediction("p7", "succeeded", output=[file], model=COMMUNITY_MODEL))
        mocked.get(file, body=_png(), content_type="image/png")
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model=model_id,
                                                            params={"width": 256, "scheduler": "DDIM"}))
        (create,) = _sent(mocked, "POST", f"{API}/predictions")
        assert len(_sent(mocked, "GET", version_url)) == 1  # fetched once, then cached
    body = create.kwargs["json"]
    assert body == {"version": COMMUNITY_VERSION, "input": {"prompt": "a cat", "width": 256, "scheduler": "DDIM"}}
    _valid(schemas, "schemas_version_prediction_request", body)
    assert "Prefer" not in create.kwargs["headers"]
    assert result.model == f"{COMMUNITY_MODEL}:{COMMUNITY_VERSION}"


async def test_missing_token_fails_before_any_call(tmp_path, make_gateway, monkeypatch) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    gateway = await make_gateway(API, api_token="")
    with aioresponses() as mocked:
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-dev"))
        assert mocked.requests == {}
    assert info.value.code == "authentication"
    assert "PROVIDERS__REPLICATE__API_TOKEN" in info.value.message
