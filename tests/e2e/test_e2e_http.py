"""The official ``openai`` SDK, unchanged but for ``base_url``, through the HTTP front-end to the real
provider plugins (OpenAI and Replicate faked on loopback), configured only by the environment a
user sets; then the same with ``STORAGE__BACKEND=s3`` against moto, and with the bucket failing."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from imagegate_openai.testing import image_bytes
from imagegate_replicate.fake_schemas import COMMUNITY_MODEL, COMMUNITY_VERSION

from .support import SECRETS, s3_client
from .http_support import (
    GATEWAY_KEY,
    Served,
    ServeEnv,
    assert_no_secrets,
    picture,
    response_texts,
    start_server_process,
    stop_server_process,
)
from .http_support import serve_env  # noqa: F401  (a fixture: pytest finds it in this module)

AUTH = {"Authorization": f"Bearer {GATEWAY_KEY}"}


@pytest.fixture
async def served(serve_env: ServeEnv, upstream_env: dict[str, str]) -> Served:
    return await serve_env(upstream_env)


def _ids(answer: Any) -> list[str]:
    return [image["id"] for image in answer.model_extra["imagegate"]["images"]]


async def _download(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, response.content_type, await response.read()


def _decoded(answer: Any) -> list[bytes]:
    return [base64.b64decode(item.b64_json) for item in answer.data]


# models ------------------------------------------------------------------------------------------


async def test_models_lists_the_catalogs_of_both_plugins(served: Served) -> None:
    from imagegate_openai.catalog import builtin_models as openai_models
    from imagegate_replicate.catalog import builtin_models as replicate_models

    page = await served.client().models.list()
    listed = {model.id: model for model in page.data}
    for spec in [*openai_models(), *replicate_models()]:
        assert spec.id in listed, spec.id
        model = listed[spec.id]
        assert model.owned_by == spec.provider and model.object == "model"
        assert model.model_extra["operations"] == list(spec.operations)
    assert listed["gpt-image-2.6-sunburst"].model_extra["operations"] == ["generate", "edit"]
    assert (await served.client().models.retrieve("replicate/black-forest-labs/flux-dev")).id == "flux-dev"


# OpenAI ------------------------------------------------------------------------------------------


async def test_gpt_image_generate_b64_with_quality_and_format(served: Served, fake_openai: Any) -> None:
    answer = await served.client().images.generate(
        model="gpt-image-2.6-sunburst", prompt="a lighthouse", size="1536x1024", n=2, quality="low",
        output_format="webp", output_compression=80)
    assert fake_openai.schema_errors == []
    (call,) = fake_openai.calls
    assert call.path == "/v1/images/generations" and call.authorized
    assert call.body == {"model": "gpt-image-2.6-sunburst", "prompt": "a lighthouse", "n": 2, "size": "1536x1024",
                         "quality": "low", "output_format": "webp", "output_compression": 80}
    images = _decoded(answer)
    assert [picture(data) for data in images] == [("WEBP", (1536, 1024))] * 2
    assert answer.output_format == "webp" and answer.size == "1536x1024" and answer.quality == "low"
    assert answer.usage.output_tokens == 800  # 400 per low-quality 1536x1024 image, as OpenAI counts
    for image_id, data in zip(_ids(answer), images, strict=True):
        assert bytes(await served.gateway.read(image_id)) == data
    assert answer.model_extra["imagegate"]["provider"] == "openai"


async def test_gpt_image_url_downloads_the_stored_bytes(served: Served, fake_openai: Any) -> None:
    answer = await served.client().images.generate(model="gpt-image-2.6-sunburst", prompt="a kite", size="1024x1024",
                                                   response_format="url")
    assert "response_format" not in fake_openai.calls[0].body  # GPT image models reject it
    assert fake_openai.schema_errors == []
    url = answer.data[0].url
    assert url.startswith(served.base_url + "/files/img_") and "sig=" in url
    status, content_type, data = await _download(url)  # no gateway key: the signature is enough
    assert (status, content_type) == (200, "image/png")
    (image_id,) = _ids(answer)
    assert data == bytes(await served.gateway.read(image_id))
    assert picture(data) == ("PNG", (1024, 1024))


async def test_gpt_image_edit_with_two_images_and_a_mask(served: Served, fake_openai: Any) -> None:
    first, second = image_bytes(64, 64, seed=1), image_bytes(64, 64, "jpeg", seed=2)
    mask = image_bytes(64, 64, seed=3, transparent=True)
    answer = await served.client().images.edit(
        model="gpt-image-2.6-sunburst", prompt="put them in a basket", size="1024x1024", input_fidelity="high",
        image=[("a.png", first, "image/png"), ("b.jpg", second, "image/jpeg")],
        mask=("mask.png", mask, "image/png"))
    assert fake_openai.schema_errors == []
    (call,) = fake_openai.calls
    assert call.path == "/v1/images/edits"
    files = [(part.name, part.value) for part in call.form if part.filename]
    assert files == [("image[]", first), ("image[]", second), ("mask", mask)]
    assert call.body["input_fidelity"] == "high" and call.body["prompt"] == "put them in a basket"
    assert picture(_decoded(answer)[0]) == ("PNG", (1024, 1024))
    assert answer.usage.input_tokens_details.image_tokens == 2 * 765


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
async def test_retired_openai_models_answer_410_without_an_upstream_call(served: Served, fake_openai: Any) -> None:
    client = served.client()
    with pytest.raises(openai.APIStatusError) as varied:
        await client.images.create_variation(model="dall-e-2", image=("in.png", image_bytes(64, 64), "image/png"))
    with pytest.raises(openai.APIStatusError) as generated:
        await client.images.generate(model="dall-e-3", prompt="a cat", quality="hd")
    for caught, replacement in ((varied, "gpt-image-2.6-sunburst"), (generated, "gpt-image-2.6-sunburst")):
        assert caught.value.status_code == 410
        assert caught.value.body["code"] == "model_retired" and replacement in caught.value.body["message"]
    assert fake_openai.call_count == 0


async def test_responses_mode_through_images_generations(served: Served, fake_openai: Any) -> None:
    answer = await served.client().images.generate(model="responses/gpt-4.1-mini", prompt="a fox",
                                                   size="1024x1536", quality="low")
    assert fake_openai.schema_errors == []
    (call,) = fake_openai.calls
    assert call.path == "/v1/responses" and call.body["model"] == "gpt-4.1-mini"
    tool = next(t for t in call.body["tools"] if t["type"] == "image_generation")
    assert tool["size"] == "1024x1536" and tool["quality"] == "low"
    assert picture(_decoded(answer)[0]) == ("PNG", (1024, 1536))
    assert answer.data[0].revised_prompt == "An image of: a fox"


# Replicate ---------------------------------------------------------------------------------------


async def test_flux_dev_maps_size_and_count(served: Served, fake_replicate: Any) -> None:
    answer = await served.client().images.generate(model="flux-dev", prompt="a lighthouse", size="1536x1024",
                                                   n=2, extra_body={"num_inference_steps": 20})
    (create,) = fake_replicate.creates
    assert create.path == "/v1/models/black-forest-labs/flux-dev/predictions"
    assert create.body == {"input": {"prompt": "a lighthouse", "num_inference_steps": 20, "aspect_ratio": "3:2",
                                     "num_outputs": 2}}
    assert [picture(data)[0] for data in _decoded(answer)] == ["WEBP", "WEBP"]
    assert answer.output_format == "webp"
    assert fake_replicate.schema_errors == []


async def test_flux_pro_with_output_format(served: Served, fake_replicate: Any) -> None:
    answer = await served.client().images.generate(model="flux-1.1-pro", prompt="a cat", output_format="png",
                                                   extra_body={"safety_tolerance": 5})
    (create,) = fake_replicate.creates
    assert create.body["input"] == {"prompt": "a cat", "output_format": "png", "safety_tolerance": 5}
    assert picture(_decoded(answer)[0]) == ("PNG", (64, 48))
    assert fake_replicate.schema_errors == []


async def test_recraft_svg_is_stored_and_served_clean(served: Served, fake_replicate: Any) -> None:
    client = served.client()
    inline = await client.images.generate(model="recraft-v3-svg", prompt="a fox logo", size="1024x1024",
                                          extra_body={"style": "line_art"})
    linked = await client.images.generate(model="recraft-v3-svg", prompt="a fox logo", response_format="url")
    assert fake_replicate.creates[0].body == {"input": {"prompt": "a fox logo", "style": "line_art",
                                                        "size": "1024x1024"}}
    assert inline.output_format == "svg"
    status, content_type, served_svg = await _download(linked.data[0].url)
    assert (status, content_type) == (200, "image/svg+xml")
    (stored_id,) = _ids(linked)
    for data in (_decoded(inline)[0], served_svg, bytes(await served.gateway.read(stored_id))):
        lowered = data.lower()
        assert b"<svg" in lowered and b"<circle" in lowered
        for active in (b"<script", b"onload", b"onclick", b"document.cookie", b"evil.example"):
            assert active not in lowered
    meta = await served.gateway.metadata(stored_id)
    assert meta["mime_type"] == "image/svg+xml" and meta["extension"] == "svg"
    assert fake_replicate.schema_errors == []


async def test_flux_2_pro_generates_and_edits_with_reference_images(served: Served, fake_replicate: Any) -> None:
    from imagegate_replicate.testing import decode_file_input

    client = served.client()
    made = await client.images.generate(model="flux-2-pro", prompt="a kite", size="1792x1024",
                                        extra_body={"resolution": "2 MP", "seed": 3})
    first, second = image_bytes(64, 64, seed=1), image_bytes(64, 64, "jpeg", seed=2)
    edited = await client.images.edit(model="replicate/black-forest-labs/flux-2-pro", prompt="both kites",
                                      image=[("a.png", first, "image/png"), ("b.jpg", second, "image/jpeg")],
                                      extra_body={"output_format": "png"})
    generated, edit = (create.body["input"] for create in fake_replicate.creates)
    assert fake_replicate.creates[1].path == "/v1/models/black-forest-labs/flux-2-pro/predictions"
    assert generated == {"prompt": "a kite", "resolution": "2 MP", "seed": 3, "aspect_ratio": "16:9"}
    assert [decode_file_input(uri) for uri in edit["input_images"]] == [("image/png", first), ("image/jpeg", second)]
    assert picture(_decoded(made)[0])[0] == "WEBP" and picture(_decoded(edited)[0])[0] == "PNG"
    assert made.model_extra["imagegate"]["cost"]["estimated_usd"] == pytest.approx(0.04)
    assert fake_replicate.schema_errors == []


async def test_community_model_by_version(served: Served, fake_replicate: Any) -> None:
    model = f"replicate/{COMMUNITY_MODEL}:{COMMUNITY_VERSION}"
    answer = await served.client().images.generate(model=model, prompt="a cat",
                                                   extra_body={"guidance_scale": 9.5, "width": 256})
    (create,) = fake_replicate.creates
    assert create.path == "/v1/predictions" and create.body["version"] == COMMUNITY_VERSION
    assert create.body["input"]["guidance_scale"] == 9.5 and create.body["input"]["width"] == 256
    assert picture(_decoded(answer)[0])[0] == "PNG"
    assert answer.model_extra["imagegate"]["provider"] == "replicate"
    assert fake_replicate.schema_errors == []


# upstream errors ---------------------------------------------------------------------------------


def _assert_clean(error: openai.APIStatusError) -> None:
    assert_no_secrets(SECRETS, *response_texts(error.response))


async def test_openai_400_names_the_param(served: Served, fake_openai: Any) -> None:
    fake_openai.fail_with(400, {"error": {
        "message": f"Invalid value for size with key {SECRETS[0]}.", "type": "invalid_request_error",
        "param": "size", "code": "invalid_value"}})
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.generate(model="gpt-image-2.6-sunburst", prompt="x", size="1024x1024")
    body = caught.value.body
    assert caught.value.status_code == 400
    assert (body["code"], body["type"], body["param"], body["provider"]) == (
        "invalid_request", "invalid_request_error", "size", "openai")
    assert body["retryable"] is False
    _assert_clean(caught.value)


@pytest.fixture
async def retrying(serve_env: ServeEnv, upstream_env: dict[str, str]) -> Served:
    """Like ``served`` but with OpenAI retries on, so 'not retried' means something."""
    return await serve_env({**upstream_env, "PROVIDERS__OPENAI__MAX_RETRIES": "2"})


async def test_openai_insufficient_quota_is_not_retried(retrying: Served, fake_openai: Any) -> None:
    fake_openai.fail_with(429, {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota",
                                          "param": None, "code": "insufficient_quota"}}, times=3)
    with pytest.raises(openai.RateLimitError) as caught:
        await retrying.client().images.generate(model="gpt-image-2.6-sunburst", prompt="x")
    body = caught.value.body
    assert caught.value.status_code == 429
    assert (body["code"], body["type"], body["retryable"]) == ("quota_exceeded", "insufficient_quota", False)
    assert fake_openai.call_count == 1
    _assert_clean(caught.value)


async def test_openai_rate_limit_passes_retry_after(served: Served, fake_openai: Any) -> None:
    fake_openai.fail_with(429, {"error": {"message": "Rate limit reached for requests", "type": "requests",
                                          "param": None, "code": "rate_limit_exceeded"}}, {"Retry-After": "7"})
    with pytest.raises(openai.RateLimitError) as caught:
        await served.client().images.generate(model="gpt-image-2.6-sunburst", prompt="x")
    body = caught.value.body
    assert caught.value.response.headers["Retry-After"] == "7"
    assert (body["code"], body["type"], body["retryable"], body["retry_after"]) == (
        "rate_limited", "rate_limit_error", True, 7.0)
    _assert_clean(caught.value)


async def test_replicate_422_is_invalid_request(served: Served, fake_replicate: Any) -> None:
    fake_replicate.fail_with(422, {"title": "Input validation failed", "status": 422,
                                   "detail": "- input.num_outputs: must be less than or equal to 4\n",
                                   "invalid_fields": [{"type": "invalid", "field": "input.num_outputs",
                                                       "description": "must be less than or equal to 4"}]},
                             path="/predictions")
    with pytest.raises(openai.BadRequestError) as caught:
        await served.client().images.generate(model="flux-dev", prompt="x", n=3)
    body = caught.value.body
    assert (body["code"], body["type"], body["provider"]) == ("invalid_request", "invalid_request_error", "replicate")
    assert body["param"] == "n"  # Replicate's num_outputs, named as the caller sent it
    assert len(fake_replicate.creates) == 1
    _assert_clean(caught.value)


async def test_bad_parameters_are_refused_before_any_upstream_call(served: Served, fake_openai: Any,
                                                                   fake_replicate: Any) -> None:
    client = served.client()
    with pytest.raises(openai.BadRequestError) as quality:
        await client.images.generate(model="gpt-image-2.6-sunburst", prompt="x", quality="ultra")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as unknown:
        await client.images.generate(model="flux-dev", prompt="x", extra_body={"bogus": 1})
    with pytest.raises(openai.BadRequestError) as size:
        await client.images.generate(model="gpt-image-2.6-sunburst", prompt="x", size="1000x1000")
    assert quality.value.body["param"] == "quality" and "low" in quality.value.body["message"]
    assert unknown.value.body["param"] == "bogus" and "num_inference_steps" in unknown.value.body["message"]
    assert size.value.body["param"] == "size"
    assert fake_openai.call_count == 0 and fake_replicate.calls == []
    for error in (quality.value, unknown.value, size.value):
        _assert_clean(error)


async def test_the_gateway_key_is_required(served: Served, fake_openai: Any) -> None:
    client = openai.AsyncOpenAI(base_url=served.base_url + "/v1", api_key=SECRETS[0], max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        await client.images.generate(model="gpt-image-2.6-sunburst", prompt="x")
    assert caught.value.body["type"] == "authentication_error"
    assert fake_openai.call_count == 0
    _assert_clean(caught.value)


# a real `imagegate serve http` --------------------------------------------------------------------


async def test_serve_http_subprocess_configured_by_env_alone(upstream_env: dict[str, str], tmp_path: Path,
                                                             fake_openai: Any, fake_replicate: Any) -> None:
    env = {**upstream_env, "GATEWAY__API_KEYS": GATEWAY_KEY}
    server = await start_server_process(env, tmp_path / "serve.log")
    try:
        client = Served(server.base_url).client()
        gpt = await client.images.generate(model="gpt-image-2.6-sunburst", prompt="a kite", size="1024x1024",
                                           quality="low", response_format="url")
        flux = await client.images.generate(model="flux-dev", prompt="a kite", size="1024x1024")
        status, content_type, data = await _download(gpt.data[0].url)
        assert gpt.data[0].url.startswith(server.base_url + "/files/")
        assert (status, content_type) == (200, "image/png") and picture(data) == ("PNG", (1024, 1024))
        assert picture(_decoded(flux)[0])[0] == "WEBP"
        assert fake_openai.call_count == 1 and fake_openai.calls[0].body["quality"] == "low"
        assert len(fake_replicate.creates) == 1 and fake_replicate.creates[0].body["input"]["aspect_ratio"] == "1:1"
        assert fake_openai.schema_errors == [] and fake_replicate.schema_errors == []
        stored = sorted(p.name for p in (tmp_path / "images").rglob("img_*") if p.suffix != ".json")
        assert stored == sorted(f"{image_id}.{ext}" for image_id, ext in
                                [(*_ids(gpt), "png"), (*_ids(flux), "webp")])
    finally:
        stop_server_process(server)
    log = server.log.read_text()
    assert_no_secrets(SECRETS, log)


# S3 ----------------------------------------------------------------------------------------------


def _keys(endpoint: str, bucket: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


async def test_s3_stores_serves_and_deletes_from_the_bucket(serve_env: ServeEnv, s3_env: dict[str, str],
                                                           moto_server: Any, bucket: str, tmp_path: Path,
                                                           fake_openai: Any) -> None:
    served = await serve_env(s3_env)
    answer = await served.client().images.generate(model="gpt-image-2.6-sunburst", prompt="a lighthouse", size="1024x1024",
                                                   output_format="jpeg", response_format="url")
    (image_id,) = _ids(answer)
    url = answer.data[0].url
    assert url.startswith(f"{moto_server.url}/{bucket}/") and "X-Amz-Signature=" in url
    status, _, data = await _download(url)
    assert status == 200 and picture(data) == ("JPEG", (1024, 1024))
    keys = _keys(moto_server.url, bucket)
    image_key = next(key for key in keys if key.endswith(f"{image_id}.jpg"))
    assert any(key.endswith(f"{image_id}.json") for key in keys)
    in_bucket = s3_client(moto_server.url).get_object(Bucket=bucket, Key=image_key)["Body"].read()
    assert in_bucket == data
    assert not (tmp_path / "images").exists() and not any((tmp_path / "spool").rglob("img_*"))

    async with aiohttp.ClientSession(served.base_url, headers=AUTH) as http:
        async with http.get(f"/v1/images/{image_id}") as response:
            meta = await response.json()
            assert response.status == 200
        assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["mime_type"] == "image/jpeg"
        assert meta["url"].startswith(f"{moto_server.url}/{bucket}/")
        async with http.get(f"/v1/images/{image_id}", params={"content": "1"}) as response:
            assert response.content_type == "image/jpeg" and await response.read() == data
        async with http.delete(f"/v1/images/{image_id}") as response:
            assert (await response.json())["deleted"] is True
        assert not [key for key in _keys(moto_server.url, bucket) if image_id in key]
        async with http.get(f"/v1/images/{image_id}") as response:
            assert response.status == 404


@pytest.fixture
async def s3_front(moto_server: Any) -> Any:
    from imagegate_storage_s3.testing import S3Front

    front = await S3Front(moto_server.url).start()
    try:
        yield front
    finally:
        await front.stop()


async def test_s3_failure_spools_and_the_drain_moves_it(serve_env: ServeEnv, s3_env: dict[str, str],
                                                        s3_front: Any, moto_server: Any, bucket: str,
                                                        fake_replicate: Any) -> None:
    served = await serve_env({**s3_env, "STORAGE__S3__ENDPOINT_URL": s3_front.url})
    port = s3_front.port
    await s3_front.stop()  # the bucket goes away after the gateway opened
    with pytest.raises(openai.InternalServerError) as caught:
        await served.client().images.generate(model="flux-dev", prompt="keep me", extra_body={"output_format": "png"})
    body = caught.value.body
    assert caught.value.status_code == 500
    assert (body["code"], body["type"], body["retryable"]) == ("storage_error", "storage_error", True)
    spool_path = Path(body["spool_path"])
    assert spool_path.is_file() and spool_path.suffix == ".png" and spool_path.name in body["message"]
    _assert_clean(caught.value)
    assert len(fake_replicate.creates) == 1  # paid for once; the storage failure was not retried upstream
    image_id = spool_path.stem
    assert body["image_ids"] == [image_id]
    spooled = spool_path.read_bytes()
    assert picture(spooled) == ("PNG", (64, 48))

    async with aiohttp.ClientSession(served.base_url, headers=AUTH) as http:
        async with http.get(f"/v1/images/{image_id}", params={"content": "1"}) as response:
            assert response.status == 200 and response.content_type == "image/png"
            assert await response.read() == spooled
        async with http.get(f"/v1/images/{image_id}") as response:
            meta = json.loads(await response.read())
        assert meta["sha256"] == hashlib.sha256(spooled).hexdigest()
        # meanwhile its URL is the gateway's own signed /files link, not a path on the server's disk
        assert meta["url"].startswith(f"{served.base_url}/files/{image_id}?exp=")
        async with aiohttp.ClientSession() as anonymous, anonymous.get(meta["url"]) as response:
            assert response.status == 200 and await response.read() == spooled

        await s3_front.start(port=port)  # the bucket is back
        assert await served.gateway.drain_spool() == [image_id]
        assert not spool_path.exists()
        image_key = next(key for key in _keys(moto_server.url, bucket) if key.endswith(f"{image_id}.png"))
        assert s3_client(moto_server.url).get_object(Bucket=bucket, Key=image_key)["Body"].read() == spooled
        async with http.get(f"/v1/images/{image_id}", params={"content": "1"}) as response:
            assert await response.read() == spooled
        async with http.get(f"/v1/images/{image_id}") as response:
            assert (await response.json())["url"].startswith(f"{s3_front.url}/{bucket}/")
