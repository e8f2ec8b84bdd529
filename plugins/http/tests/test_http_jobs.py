"""Jobs over HTTP: ``Prefer: respond-async`` (202 + Location), polling and long-polling
``/v1/images/jobs/{id}``, the caller's job list, cancel, and ``Idempotency-Key`` on every POST,
against OpenAI and Replicate faked on loopback, the placeholder and the gated test model."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from imagegate.files import sniff_mime
from imagegate.testing import add_virtual_key, image_bytes, until

from .jobs_support import ASYNC, OPENAI_KEY, REPLICATE_TOKEN, get_json, post_json


@pytest.fixture
async def upstreams(serve: Callable[..., Awaitable[Any]], fake_openai: Any, fake_replicate: Any) -> Any:
    """The app with the OpenAI and Replicate plugins pointed at their fakes (no retries)."""
    import imagegate_openai
    import imagegate_replicate

    return await serve(
        plugins=[(imagegate_openai, "openai"), (imagegate_replicate, "replicate")],
        providers={"openai": {"api_key": OPENAI_KEY, "base_url": fake_openai.base_url, "max_retries": 0},
                   "replicate": {"api_token": REPLICATE_TOKEN, "base_url": fake_replicate.base_url,
                                 "max_retries": 0, "poll_interval_s": 0.05}})


@contextlib.asynccontextmanager
async def _released(gate: Path) -> AsyncIterator[None]:
    """Open the gated model's gate on the way out, so a failing test leaves no job running."""
    try:
        yield
    finally:
        (gate / "release").touch()


OPERATIONS = {
    "generations": ({"model": "gpt-image-2", "prompt": "a lighthouse", "size": "1024x1024"}, None),
    "edits": ({"model": "gpt-image-2", "prompt": "make it blue", "size": "1024x1024"}, image_bytes()),
    "variations": ({"model": "placeholder", "size": "64x64"}, image_bytes()),
}


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_async_submit_then_poll_answers_what_the_sync_call_answers(
        upstreams: Any, fake_openai: Any, operation: str, response_format: str) -> None:
    body, image = OPERATIONS[operation]
    body = {**body, "response_format": response_format}
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        status, headers, job = await post_json(http, operation, body, ASYNC, image)
        assert status == 202, job
        assert headers["Location"] == f"/v1/images/jobs/{job['id']}"
        assert headers["Preference-Applied"] == "respond-async"
        assert job["id"].startswith("job_") and job["object"] == "image.job"
        assert job["status"] in {"queued", "running", "succeeded"} and job["model"] == body["model"]
        assert job["operation"] == {"generations": "generate", "edits": "edit", "variations": "variation"}[operation]
        assert isinstance(job["created_at"], float) and "owner" not in job and "delivery" not in job

        status, done = await get_json(http, headers["Location"], wait="30")
        assert status == 200 and done["status"] == "succeeded" and done["error"] is None
        _, again = await get_json(http, headers["Location"])
        assert again["result"]["created"] == done["result"]["created"] == int(done["finished_at"])
        status, _, sync = await post_json(http, operation, body, {}, image)
        assert status == 200
    result = done["result"]
    assert set(result) == set(sync) and set(result["data"][0]) == set(sync["data"][0])
    assert result["imagegate"]["model"] == body["model"]
    [item] = result["data"]
    if response_format == "url":
        assert "b64_json" not in item and "sig=" in item["url"]
        async with aiohttp.ClientSession() as plain, plain.get(item["url"]) as download:
            assert download.status == 200 and sniff_mime(await download.read()) == "image/png"
    else:
        assert "url" not in item and sniff_mime(base64.b64decode(item["b64_json"])) == "image/png"
    fake_openai.assert_valid()


async def test_long_poll_returns_when_the_job_ends(served: Any, gate: Path) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, _released(gate):
        status, headers, _ = await post_json(http, "generations", {"model": "test-gated", "prompt": "slow"}, ASYNC)
        assert status == 202
        await until(lambda: any(gate.glob("started-*")))
        status, running = await get_json(http, headers["Location"])
        assert running["status"] in {"queued", "running"} and running["result"] is None
        poll = asyncio.ensure_future(get_json(http, headers["Location"], wait="60"))
        await asyncio.sleep(0)
        assert not poll.done()
        (gate / "release").touch()
        status, done = await poll
    assert status == 200 and done["status"] == "succeeded" and len(done["result"]["data"]) == 1
    assert done["started_at"] <= done["finished_at"]


async def test_wait_over_sixty_seconds_is_refused(served: Any) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        status, error = await get_json(http, "/v1/images/jobs/job_0123", wait="61")
    assert status == 400 and error["error"]["param"] == "wait" and "60" in error["error"]["message"]


async def test_stream_cannot_be_answered_asynchronously(served: Any) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        body = {"model": "test-streamer", "prompt": "x", "stream": True}
        status, _, error = await post_json(http, "generations", body, ASYNC)
    assert status == 400 and error["error"]["param"] == "stream"
    assert await served.gateway.jobs.list("local", 10) == []


async def test_an_invalid_async_request_is_refused_before_it_is_accepted(served: Any) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        status, _, error = await post_json(http, "generations", {"model": "placeholder", "prompt": "x",
                                                             "size": "7x7"}, ASYNC)
    assert status == 400 and error["error"]["param"] == "size"
    assert await served.gateway.jobs.list("local", 10) == []


async def test_a_failed_job_carries_the_error_envelope(upstreams: Any, fake_openai: Any) -> None:
    fake_openai.fail_with(500, {"error": {"message": "boom", "type": "server_error", "param": None,
                                          "code": None}})
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        _, headers, _ = await post_json(http, "generations", OPERATIONS["generations"][0], ASYNC)
        status, done = await get_json(http, headers["Location"], wait="30")
    assert status == 200 and done["status"] == "failed" and done["result"] is None
    error = done["error"]
    assert error["code"] == "upstream_error" and error["type"] == "upstream_error"
    assert set(error) >= {"message", "type", "param", "code", "retryable", "provider", "retry_after"}


async def test_cancel_stops_a_running_replicate_prediction(upstreams: Any, fake_replicate: Any) -> None:
    fake_replicate.keep_processing = True
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        _, headers, job = await post_json(http, "generations", {"model": "flux-dev", "prompt": "a fox",
                                                            "response_format": "url"}, ASYNC)
        await until(lambda: bool(fake_replicate.creates))
        async with http.delete(headers["Location"]) as response:
            assert response.status == 200
            canceled = await response.json()
        _, again = await get_json(http, headers["Location"])
    assert canceled["id"] == job["id"] and canceled["status"] == "canceled" and canceled["finished_at"]
    assert again["status"] == "canceled"
    assert len(fake_replicate.cancels) == 1  # the upstream prediction was cancelled too


async def test_idempotent_sync_repeat_makes_one_upstream_call(upstreams: Any, fake_openai: Any) -> None:
    body = {**OPERATIONS["generations"][0], "response_format": "url"}
    key = {"Idempotency-Key": "sync-1"}
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        _, _, first = await post_json(http, "generations", body, key)
        _, _, again = await post_json(http, "generations", body, key)
        _, _, as_job = await post_json(http, "generations", body, {**key, **ASYNC})
        status, _, other = await post_json(http, "generations", {**body, "prompt": "another"}, key)
    assert len(fake_openai.calls_to("/images/generations")) == 1
    ids = [image["id"] for image in first["imagegate"]["images"]]
    assert [image["id"] for image in again["imagegate"]["images"]] == ids
    assert [image["id"] for image in as_job["result"]["imagegate"]["images"]] == ids
    assert status == 400 and other["error"]["param"] == "Idempotency-Key"
    assert other["error"]["code"] == "invalid_request"


async def test_idempotent_multipart_repeat_makes_one_upstream_call(upstreams: Any, fake_openai: Any) -> None:
    body, image = OPERATIONS["edits"]
    key = {"Idempotency-Key": "edit-1"}
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        _, _, first = await post_json(http, "edits", body, key, image)
        _, _, again = await post_json(http, "edits", body, key, image)
        status, _, other = await post_json(http, "edits", body, key, image_bytes(seed=3))
    assert len(fake_openai.calls_to("/images/edits")) == 1
    assert again["imagegate"]["images"][0]["id"] == first["imagegate"]["images"][0]["id"]
    assert status == 400 and other["error"]["param"] == "Idempotency-Key"  # another file: another request


async def test_concurrent_idempotent_repeats_share_one_upstream_call(upstreams: Any, fake_openai: Any) -> None:
    body = {**OPERATIONS["generations"][0], "response_format": "b64_json"}
    key = {"Idempotency-Key": "concurrent-1"}
    fake_openai.hang()
    async with aiohttp.ClientSession(upstreams.base_url) as http:
        syncs = [asyncio.ensure_future(post_json(http, "generations", body, key)) for _ in range(3)]
        await until(lambda: bool(fake_openai.calls_to("/images/generations")))
        _, _, job = await post_json(http, "generations", body, {**key, **ASYNC})
        _, _, job_again = await post_json(http, "generations", body, {**key, **ASYNC})
        assert job["status"] in {"queued", "running"}
        fake_openai.release()
        answers = await asyncio.gather(*syncs)
    assert len(fake_openai.calls_to("/images/generations")) == 1
    assert job_again["id"] == job["id"]
    assert {status for status, _, _ in answers} == {200}
    assert len({answer["imagegate"]["images"][0]["id"] for _, _, answer in answers}) == 1
    assert len({answer["data"][0]["b64_json"] for _, _, answer in answers}) == 1


async def test_another_keys_jobs_are_not_found_and_admin_keys_see_all(serve: Callable[..., Awaitable[Any]]) -> None:
    served = await serve(gateway={"api_keys": ["sk-operator-0123456789"]})
    a, b, admin, operator = ({"Authorization": f"Bearer {key}"} for key in (
        await add_virtual_key(served.gateway, "a"), await add_virtual_key(served.gateway, "b"),
        await add_virtual_key(served.gateway, "boss", admin=True), "sk-operator-0123456789"))
    async with aiohttp.ClientSession(served.base_url) as http:
        _, headers, job = await post_json(http, "generations", {"model": "placeholder", "prompt": "mine"}, {**a, **ASYNC})
        mine, _ = await get_json(http, headers["Location"], a, wait="30")
        status, error = await get_json(http, headers["Location"], b)
        async with http.delete(headers["Location"], headers=b) as response:
            cancel_status = response.status
        _, theirs = await get_json(http, "/v1/images/jobs", b)
        _, own = await get_json(http, "/v1/images/jobs", a)
        _, _, other = await post_json(http, "generations", {"model": "placeholder", "prompt": "theirs"},
                                      {**b, "Idempotency-Key": "shared"})
        _, _, same_key = await post_json(http, "generations", {"model": "placeholder", "prompt": "mine"},
                                         {**a, "Idempotency-Key": "shared"})
        seen = {name: await get_json(http, headers["Location"], key) for name, key in (("admin", admin),
                                                                                         ("operator", operator))}
        listed = {name: (await get_json(http, "/v1/images/jobs", key))[1] for name, key in (("admin", admin),
                                                                                              ("operator", operator))}
        async with http.delete(headers["Location"], headers=admin) as response:
            admin_cancel = response.status, await response.json()
    assert mine == 200 and status == 404 and error["error"]["code"] == "not_found" and cancel_status == 404
    assert job["id"] not in [j["id"] for j in theirs["data"]]
    assert [j["id"] for j in own["data"]] == [job["id"]]
    assert same_key["data"] and other["data"]  # one key's Idempotency-Key is not another's
    for name in ("admin", "operator"):  # an admin key (--admin, or GATEWAY__API_KEYS) sees every key's jobs
        assert seen[name][0] == 200 and seen[name][1]["id"] == job["id"]
        assert [j["parameters"]["prompt"] for j in listed[name]["data"]] == ["mine", "theirs", "mine"]
        assert listed[name]["data"][-1]["id"] == job["id"]
    assert admin_cancel[0] == 200 and admin_cancel[1]["status"] == "succeeded"  # finished: answered as it is


async def test_the_job_list_pages_newest_first(served: Any) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        made = []
        for index in range(5):
            _, _, job = await post_json(http, "generations", {"model": "placeholder", "prompt": f"p{index}"}, ASYNC)
            made.append(job["id"])
        newest_first = made[::-1]
        _, first = await get_json(http, "/v1/images/jobs", limit="2")
        assert first["object"] == "list" and first["has_more"] is True
        assert [j["id"] for j in first["data"]] == newest_first[:2]
        assert first["first_id"] == newest_first[0] and first["last_id"] == newest_first[1]
        assert "result" not in first["data"][0] and first["data"][0]["object"] == "image.job"
        _, second = await get_json(http, "/v1/images/jobs", limit="2", after=first["last_id"])
        _, third = await get_json(http, "/v1/images/jobs", limit="2", before=second["last_id"])
        assert [j["id"] for j in second["data"] + third["data"]] == newest_first[2:]
        assert second["has_more"] is True and third["has_more"] is False
        status, both = await get_json(http, "/v1/images/jobs", after=made[0], before=made[1])
        unknown, missing = await get_json(http, "/v1/images/jobs", after="job_nothing")
        bad_limit, _ = await get_json(http, "/v1/images/jobs", limit="101")
    assert status == 400 and both["error"]["param"] == "before"
    assert unknown == 404 and missing["error"]["param"] == "after"
    assert bad_limit == 400


async def test_the_openapi_document_describes_jobs(served: Any) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, http.get("/openapi.json") as response:
        document = await response.json()
    paths = document["paths"]
    assert {"get", "delete"} <= set(paths["/v1/images/jobs/{id}"]) and "get" in paths["/v1/images/jobs"]
    wait = next(p for p in paths["/v1/images/jobs/{id}"]["get"]["parameters"] if p["name"] == "wait")
    assert wait["schema"]["maximum"] == 60
    for operation in ("generations", "edits", "variations"):
        post = paths[f"/v1/images/{operation}"]["post"]
        assert "Location" in post["responses"]["202"]["headers"]
        assert {p["name"] for p in post["parameters"] if p["in"] == "header"} == {"Prefer", "Idempotency-Key"}
    assert document["components"]["schemas"]["ImageJob"]["properties"]["object"] == {"const": "image.job"}


async def test_a_grid_jobs_result_keeps_its_grid(served: Any) -> None:
    body = {"model": "placeholder", "prompt": "panels", "size": "256x256", "grid": "2x2", "response_format": "url"}
    async with aiohttp.ClientSession(served.base_url) as http:
        _, headers, _ = await post_json(http, "generations", body, ASYNC)
        _, done = await get_json(http, headers["Location"], wait="30")
        _, _, sync = await post_json(http, "generations", body, {})
    result = done["result"]
    assert len(result["data"]) == len(sync["data"]) == 4
    assert result["grid"]["rows"] == 2 and result["grid"]["url"] != sync["grid"]["url"]


async def test_browsers_may_send_the_job_headers_and_read_location(serve: Callable[..., Awaitable[Any]]) -> None:
    served = await serve(options={"cors_origins": ["https://app.example"]})
    origin = {"Origin": "https://app.example"}
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.options("/v1/images/generations", headers={
                **origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "prefer, idempotency-key"}) as preflight:
            allowed = preflight.headers["Access-Control-Allow-Headers"]
        status, headers, _ = await post_json(http, "generations", {"model": "placeholder", "prompt": "x"},
                                         {**origin, **ASYNC, "Idempotency-Key": "browser-1"})
    assert {"Prefer", "Idempotency-Key"} <= {name.strip() for name in allowed.split(",")}
    assert status == 202 and "Location" in headers["Access-Control-Expose-Headers"]


async def test_the_openai_sdk_sends_an_idempotency_key_through_extra_headers(served: Any) -> None:
    client = served.client()
    try:
        first, again = [await client.images.generate(
            model="placeholder", prompt="sdk", size="64x64", response_format="url",
            extra_headers={"Idempotency-Key": "sdk-1"}) for _ in range(2)]
    finally:
        await client.close()
    assert again.model_extra["imagegate"]["images"][0]["id"] == first.model_extra["imagegate"]["images"][0]["id"]
    [job] = await served.gateway.jobs.list("local", 10)
    assert job["idempotency_key"] == "sdk-1"


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ключ"])
async def test_a_malformed_idempotency_key_is_refused(served: Any, key: str) -> None:
    headers = {"Idempotency-Key": key.encode().decode("latin-1")}  # as the bytes arrive
    async with aiohttp.ClientSession(served.base_url) as http:
        status, _, error = await post_json(http, "generations", {"model": "placeholder", "prompt": "x"}, headers)
    assert status == 400 and error["error"]["param"] == "Idempotency-Key"
    assert await served.gateway.jobs.list("local", 10) == []
