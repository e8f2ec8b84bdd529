"""Keys, request rates, body and upload limits, malformed input and CORS: always the envelope."""

from __future__ import annotations

import logging

import aiohttp
import openai
import pytest

from imagegate.testing import image_bytes

KEY = "sk-test-gateway-key-abcdef"


async def _json(response: aiohttp.ClientResponse) -> dict:
    assert response.content_type == "application/json"
    return await response.json()


async def test_missing_or_wrong_key_is_401_right_key_works(serve, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    served = await serve(gateway={"api_keys": [KEY, "another-key"]})
    with pytest.raises(openai.AuthenticationError) as caught:
        await served.client(api_key="sk-wrong-key-0000").images.generate(prompt="x", size="64x64")
    assert caught.value.body["type"] == "authentication_error"
    assert "sk-wrong-key-0000" not in str(caught.value.body) and KEY not in str(caught.value.body)
    async with aiohttp.ClientSession(served.base_url) as http, http.get("/v1/models") as response:
        assert response.status == 401
        assert (await _json(response))["error"]["code"] == "authentication"
    answer = await served.client(api_key=KEY).images.generate(prompt="x", size="64x64")
    assert answer.data[0].b64_json
    assert KEY not in caplog.text and "sk-wrong-key-0000" not in caplog.text


async def test_health_openapi_and_signed_files_need_no_key(serve) -> None:
    served = await serve(gateway={"api_keys": [KEY]})
    url = (await served.client(api_key=KEY).images.generate(prompt="x", size="64x64", response_format="url")).data[0].url
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/readyz", "/openapi.json"):
            async with http.get(served.base_url + path) as response:
                assert response.status == 200, path
        async with http.get(url) as response:
            assert response.status == 200 and response.content_type == "image/png"


async def test_per_key_rate_limit_answers_429_with_retry_after(serve) -> None:
    served = await serve(gateway={"api_keys": [KEY, "second-key"], "rate_limit_rpm": 2})
    client = served.client(api_key=KEY)
    await client.models.list()
    await client.models.list()
    with pytest.raises(openai.RateLimitError) as caught:
        await client.models.list()
    retry_after = caught.value.response.headers["Retry-After"]
    assert 1 <= int(retry_after) <= 60
    assert caught.value.body["type"] == "rate_limit_error" and caught.value.body["retryable"] is True
    assert (await served.client(api_key="second-key").models.list()).data  # other keys are not limited


async def test_an_address_failing_keys_is_throttled_without_its_key_being_checked(serve) -> None:
    served = await serve(gateway={"api_keys": [KEY], "auth_max_failures": 3, "auth_failure_window_s": 120})
    async with aiohttp.ClientSession(served.base_url) as http:
        for guess in ("sk-guess-1", "sk-guess-2", "sk-guess-3"):
            async with http.get("/v1/models", headers={"Authorization": f"Bearer {guess}"}) as response:
                assert response.status == 401
        async with http.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}) as response:
            assert response.status == 429  # even the right key, until the first failure is 120 s old
            assert 110 <= int(response.headers["Retry-After"]) <= 120
            error = (await _json(response))["error"]
            assert error["code"] == "rate_limited" and error["type"] == "rate_limit_error"
            assert "GATEWAY__AUTH_MAX_FAILURES" in error["message"] and KEY not in error["message"]
        async with http.get("/healthz") as response:
            assert response.status == 200  # routes without a key are not throttled


async def _guess_keys(http: aiohttp.ClientSession, forwarded_for: str, tries: int) -> list[int]:
    statuses = []
    for attempt in range(tries):
        headers = {"Authorization": f"Bearer sk-guess-{attempt}", "X-Forwarded-For": forwarded_for}
        async with http.get("/v1/models", headers=headers) as response:
            statuses.append(response.status)
    return statuses


async def test_behind_a_trusted_proxy_each_forwarded_client_is_locked_out_on_its_own(serve) -> None:
    # the test client connects from 127.0.0.1, standing for nginx
    served = await serve(gateway={"api_keys": [KEY], "auth_max_failures": 2, "trusted_proxies": ["127.0.0.1"]})
    async with aiohttp.ClientSession(served.base_url) as http:
        # the client's own left-most claims change on every try; the proxy's right-most entry counts
        assert await _guess_keys(http, "203.0.113.9", 3) == [401, 401, 429]
        for spoofed in ("192.0.2.1, 203.0.113.9", "198.51.100.1, 203.0.113.9"):
            assert await _guess_keys(http, spoofed, 1) == [429]
        good = {"Authorization": f"Bearer {KEY}"}
        async with http.get("/v1/models", headers={**good, "X-Forwarded-For": "203.0.113.10"}) as response:
            assert response.status == 200  # another client behind the same proxy is not locked out
        assert await _guess_keys(http, "203.0.113.10", 1) == [401]  # and has its own count
        async with http.get("/v1/models", headers=good) as response:
            assert response.status == 200  # the proxy itself (no header) is not locked out either


async def test_an_untrusted_peers_forwarded_for_is_ignored(serve) -> None:
    served = await serve(gateway={"api_keys": [KEY], "auth_max_failures": 2, "trusted_proxies": ["10.0.0.0/8"]})
    async with aiohttp.ClientSession(served.base_url) as http:
        # 127.0.0.1 is no trusted proxy: a new X-Forwarded-For each time does not make a new client
        statuses = [(await _guess_keys(http, f"203.0.113.{n}", 1))[0] for n in range(3)]
        assert statuses == [401, 401, 429]
        async with http.get("/v1/models", headers={"Authorization": f"Bearer {KEY}",
                                                   "X-Forwarded-For": "203.0.113.77"}) as response:
            assert response.status == 429


async def test_the_rate_per_address_without_keys_follows_the_trusted_proxy(serve) -> None:
    served = await serve(gateway={"rate_limit_rpm": 1, "trusted_proxies": ["127.0.0.1"]})
    async with aiohttp.ClientSession(served.base_url) as http:
        for client, expected in (("203.0.113.9", 200), ("192.0.2.1, 203.0.113.9", 429), ("203.0.113.10", 200)):
            async with http.get("/v1/models", headers={"X-Forwarded-For": client}) as response:
                assert response.status == expected, client


async def test_json_body_over_the_limit_is_413_in_the_envelope(serve) -> None:
    served = await serve(options={"max_json_kb": 10})
    async with aiohttp.ClientSession(served.base_url) as http:
        body = b'{"prompt": "' + b"x" * 20000 + b'"}'
        async with http.post("/v1/images/generations", data=body,
                             headers={"Content-Type": "application/json"}) as response:
            assert response.status == 413
            error = (await _json(response))["error"]
            assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"
            assert "10 KB" in error["message"] and "GATEWAY__MAX_JSON_KB" in error["message"]


async def test_upload_over_the_limit_is_refused(serve) -> None:
    served = await serve(options={"max_body_mb": 0.05})
    big = image_bytes(600, 600) + b"\0" * 100_000
    form = aiohttp.FormData()
    form.add_field("prompt", "x")
    form.add_field("image", big, filename="a.png", content_type="image/png")
    async with aiohttp.ClientSession(served.base_url) as http, http.post("/v1/images/edits", data=form) as response:
        assert response.status == 413
        error = (await _json(response))["error"]
        assert error["code"] == "invalid_request" and "GATEWAY__MAX_BODY_MB" in error["message"]


async def test_image_over_the_per_image_limit_is_400(serve) -> None:
    served = await serve(options={"max_image_mb": 0.01})
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(prompt="x", image=("a.png", image_bytes() + b"\0" * 20000, "image/png"))
    assert caught.value.body["param"] == "image"


async def test_more_than_16_images_is_400(served) -> None:
    images = [(f"{i}.png", image_bytes(), "image/png") for i in range(17)]
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(prompt="x", image=images)
    assert caught.value.body["param"] == "image" and "16" in caught.value.body["message"]


@pytest.mark.parametrize(("path", "body", "content_type", "needle"), [
    ("/v1/images/generations", b'{"prompt": ', "application/json", "not valid JSON"),
    ("/v1/images/generations", b'["a list"]', "application/json", "JSON object"),
    ("/v1/images/generations", b"prompt=x", "application/x-www-form-urlencoded", "application/json"),
    ("/v1/images/generations", b'{"prompt": 5}', "application/json", "prompt"),
    ("/v1/images/generations", b'{"prompt": "x", "n": "many"}', "application/json", "n must be"),
    ("/v1/images/generations", b'{"prompt": "x", "response_format": "gif"}', "application/json", "response_format"),
    ("/v1/images/edits", b'{"prompt": "x"}', "application/json", "multipart/form-data"),
    ("/v1/images/edits", b"--nope\r\ngarbage", "multipart/form-data; boundary=xyz", ""),
    ("/v1/images/variations", b"", "text/plain", "multipart/form-data"),
    ("/v1/images/variations", b'--xyz\r\nContent-Disposition: form-data; name="a\x15b"\r\n\r\nv\r\n--xyz--\r\n',
     "multipart/form-data; boundary=xyz", "malformed multipart"),
])
async def test_malformed_requests_are_400_never_500(served, path, body, content_type, needle) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, \
            http.post(path, data=body, headers={"Content-Type": content_type}) as response:
        error = (await _json(response))["error"]
        assert response.status == 400, error
        assert error["type"] == "invalid_request_error"
        assert needle in error["message"]
        assert "Traceback" not in error["message"]


async def test_non_image_upload_is_400(served) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(prompt="x", image=("a.png", b"%PDF-1.4 not an image" * 10, "image/png"))
    assert caught.value.body["param"] == "image"
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.edit(prompt="x", image=("a.png", image_bytes(), "image/png"),
                                          mask=("m.png", b"GIF? no", "image/png"))
    assert caught.value.body["param"] == "mask"


async def test_unknown_route_and_method_are_enveloped(served) -> None:
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.get("/v1/nothing-here") as response:
            assert response.status == 404
            assert (await _json(response))["error"]["type"] == "not_found_error"
        async with http.put("/v1/images/generations") as response:
            assert response.status == 405
            assert (await _json(response))["error"]["type"] == "invalid_request_error"


async def test_cors_is_off_by_default(served) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, \
            http.get("/v1/models", headers={"Origin": "https://app.example"}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_allows_configured_origins_and_answers_preflight(serve) -> None:
    served = await serve(gateway={"api_keys": [KEY]}, options={"cors_origins": ["https://app.example"]})
    async with aiohttp.ClientSession(served.base_url) as http:
        async with http.options("/v1/images/generations", headers={
                "Origin": "https://app.example", "Access-Control-Request-Method": "POST"}) as response:
            assert response.status == 204
            assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        async with http.get("/v1/models", headers={"Origin": "https://app.example",
                                                  "Authorization": f"Bearer {KEY}"}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
        async with http.get("/v1/models", headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 401  # the error too is enveloped, but gets no CORS grant
            assert "Access-Control-Allow-Origin" not in response.headers
