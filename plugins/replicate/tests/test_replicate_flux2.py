"""FLUX.2 through the whole pipeline against FakeReplicate: generate, edit with reference images,
refusals before any prediction, prices, and Replicate's error answers."""

from __future__ import annotations

import io

import pytest

from imagegate._errors import ImagegateError
from imagegate._models import ImageInput, ImageRequest
from imagegate_replicate.catalog import FLUX2_MODELS, builtin_models
from imagegate_replicate.testing import decode_file_input

FLUX2 = {spec.id: spec for spec in builtin_models() if spec.id in FLUX2_MODELS}


def _image(fmt: str, color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format=fmt)
    return buffer.getvalue()


def test_the_catalog_holds_the_flux2_models_of_the_spec() -> None:
    assert sorted(FLUX2) == ["flux-2-dev", "flux-2-flex", "flux-2-klein-4b", "flux-2-klein-9b-base",
                             "flux-2-max", "flux-2-pro"]
    limits = {model_id: (spec.options["image_param"], spec.max_input_images) for model_id, spec in FLUX2.items()}
    assert limits == {"flux-2-pro": ("input_images", 8), "flux-2-max": ("input_images", 8),
                      "flux-2-flex": ("input_images", 10), "flux-2-dev": ("input_images", 8),
                      "flux-2-klein-4b": ("images", 5), "flux-2-klein-9b-base": ("images", 5)}
    assert all(spec.operations == ["generate", "edit"] for spec in FLUX2.values())
    assert all(spec.qualified_id == f"replicate/{FLUX2_MODELS[spec.id][0]}" for spec in FLUX2.values())
    assert "prompt_upsampling" in FLUX2["flux-2-flex"].params and "prompt_upsampling" not in FLUX2["flux-2-pro"].params
    assert FLUX2["flux-2-flex"].params["prompt_upsampling"].default is True
    assert {"steps", "guidance"} <= set(FLUX2["flux-2-flex"].params)
    assert FLUX2["flux-2-pro"].params["resolution"].enum == ["match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP"]
    assert FLUX2["flux-2-klein-9b-base"].params["guidance"].maximum == 10


@pytest.mark.parametrize("model_id", sorted(FLUX2))
async def test_generate_then_edit_with_reference_images(fake, make_gateway, model_id) -> None:
    spec = FLUX2[model_id]
    gateway = await make_gateway(fake.base_url)
    result = await gateway.run("generate", ImageRequest(prompt="a red kite", model=model_id, params={"seed": 7}))
    (create,) = fake.creates
    assert create.path == f"/v1/models/{spec.upstream}/predictions"
    assert create.body == {"input": {"prompt": "a red kite", "seed": 7}}
    assert create.headers["Prefer"] == "wait=60"
    default_mime = {"webp": "image/webp", "jpg": "image/jpeg"}[spec.output_format({})]
    assert [image.mime_type for image in result.images] == [default_mime]

    references = [_image("PNG", (200, 10, 10)), _image("JPEG", (10, 200, 10))]
    edited = await gateway.run("edit", ImageRequest(
        prompt="the kite from the first picture over the field of the second", model=model_id,
        images=[ImageInput(kind="bytes", value=data) for data in references], params={"output_format": "png"}))
    sent = fake.creates[1].body["input"]
    image_param = spec.options["image_param"]
    assert set(sent) == {"prompt", "output_format", image_param}
    assert [decode_file_input(uri) for uri in sent[image_param]] == [("image/png", references[0]),
                                                                     ("image/jpeg", references[1])]
    assert edited.images[0].mime_type == "image/png"
    assert len(fake.creates) == 2 and fake.schema_errors == []


@pytest.mark.parametrize(("model_id", "params", "param", "words"), [
    ("flux-2-pro", {"aspect_ratio": "7:3"}, "aspect_ratio", "16:9"),
    ("flux-2-pro", {"resolution": "3 MP"}, "resolution", "0.5 MP, 1 MP, 2 MP, 4 MP"),
    ("flux-2-pro", {"safety_tolerance": 6}, "safety_tolerance", "from 1 to 5"),
    ("flux-2-pro", {"output_quality": 101}, "output_quality", "from 0 to 100"),
    ("flux-2-pro", {"output_format": "gif"}, "output_format", "webp, jpg, png"),
    ("flux-2-pro", {"prompt_upsampling": True}, "prompt_upsampling", "resolution"),
    ("flux-2-max", {"width": 1024}, "width", "aspect_ratio=match_input_image"),
    ("flux-2-flex", {"aspect_ratio": "custom", "width": 4096, "height": 1024}, "width", "from 256 to 2048"),
    ("flux-2-flex", {"steps": "many"}, "steps", "integer"),
    ("flux-2-klein-4b", {"go_fast": "yes please"}, "go_fast", "boolean"),
    ("flux-2-klein-9b-base", {"guidance": 11}, "guidance", "from 1 to 10"),
    ("flux-2-pro", {"aspect_ratio": "match_input_image"}, "aspect_ratio", "needs input images"),
    ("flux-2-flex", {"resolution": "match_input_image"}, "resolution", "use edit"),
])
async def test_bad_parameters_are_refused_before_any_prediction(fake, make_gateway, model_id, params, param,
                                                                words) -> None:
    gateway = await make_gateway(fake.base_url)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model=model_id, params=params))
    assert (info.value.code, info.value.param) == ("invalid_request", param)
    assert words in info.value.message and not info.value.retryable
    assert fake.creates == []


async def test_too_many_reference_images_are_refused(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    png = _image("PNG", (1, 2, 3))
    with pytest.raises(ImagegateError) as info:
        await gateway.run("edit", ImageRequest(prompt="merge them", model="flux-2-klein-4b",
                                               images=[ImageInput(kind="bytes", value=png)] * 6))
    assert (info.value.code, info.value.param) == ("invalid_request", "image")
    assert "at most 5" in info.value.message
    assert fake.creates == []


async def test_match_input_image_and_custom_size_in_an_edit(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    png = _image("PNG", (9, 9, 9))
    await gateway.run("edit", ImageRequest(
        prompt="same framing", model="flux-2-pro", images=[ImageInput(kind="bytes", value=png)],
        params={"aspect_ratio": "match_input_image", "resolution": "match_input_image"}))
    await gateway.run("generate", ImageRequest(prompt="a banner", model="flux-2-pro",
                                               params={"aspect_ratio": "custom", "width": 1536, "height": 512}))
    first, second = (create.body["input"] for create in fake.creates)
    assert first["aspect_ratio"] == first["resolution"] == "match_input_image" and len(first["input_images"]) == 1
    assert (second["width"], second["height"]) == (1536, 512)
    assert fake.schema_errors == []


async def test_the_fake_refuses_file_inputs_that_are_not_images(fake) -> None:
    import aiohttp

    url = f"{fake.base_url}/models/black-forest-labs/flux-2-pro/predictions"
    bad = {"input": {"prompt": "x", "input_images": ["data:image/png;base64,aGVsbG8=", "ftp://host/a.png"]}}
    async with aiohttp.ClientSession() as session, session.post(
            url, json=bad, headers={"Authorization": "Bearer r8_test"}) as response:
        body = await response.json()
    assert response.status == 422 and body["title"] == "Input validation failed"
    assert [field["field"] for field in body["invalid_fields"]] == ["input.input_images.0", "input.input_images.1"]
    assert fake.predictions == {}


@pytest.mark.parametrize(("params", "n", "usd"), [
    ({}, 1, 0.02), ({"resolution": "0.5 MP"}, 1, 0.01), ({"resolution": "2 MP"}, 2, 0.08),
    ({"resolution": "4 MP"}, 1, 0.08),
])
async def test_flux_2_pro_estimate_follows_the_resolution(fake, make_gateway, params, n, usd) -> None:
    gateway = await make_gateway(fake.base_url)
    estimate = await gateway.estimate("generate", ImageRequest(prompt="a cat", model="flux-2-pro", n=n,
                                                               params=params))
    assert estimate["cost"]["estimated_usd"] == pytest.approx(usd)
    assert fake.calls == []


@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (401, "authentication", None), (402, "quota_exceeded", None), (429, "rate_limited", 7.0),
])
async def test_replicate_error_answers(fake, make_gateway, status, code, retry_after) -> None:
    gateway = await make_gateway(fake.base_url, max_retries=0)
    fake.fail_like_replicate(status, path="/predictions")
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model="flux-2-max"))
    assert (info.value.code, info.value.retry_after, info.value.provider) == (code, retry_after, "replicate")
    assert fake.predictions == {}


def _noise_png(side: int = 700) -> bytes:
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
async def test_large_reference_images_are_uploaded_then_deleted(fake, make_gateway, outcome) -> None:
    from imagegate_replicate.input_files import DATA_URI_MAX_BYTES

    large, small = _noise_png(), _image("JPEG", (1, 2, 3))
    assert len(large) > DATA_URI_MAX_BYTES > len(small)
    if outcome == "failed":
        fake.finish_as("failed", "CUDA out of memory")
    gateway = await make_gateway(fake.base_url, max_retries=0)
    request = ImageRequest(prompt="blend", model="flux-2-max",
                           images=[ImageInput(kind="bytes", value=large), ImageInput(kind="bytes", value=small)])
    if outcome == "failed":
        with pytest.raises(ImagegateError):
            await gateway.run("edit", request)
    else:
        await gateway.run("edit", request)
    (upload,) = fake.calls_to("/v1/files", "POST")
    assert upload.authorized
    uploaded_url, inline = fake.creates[0].body["input"]["input_images"]
    file_id = uploaded_url.rpartition("/")[2]
    assert uploaded_url == f"{fake.base_url}/files/{file_id}"
    assert decode_file_input(inline) == ("image/jpeg", small)
    assert [call.path for call in fake.calls_to("/v1/files/", "DELETE")] == [f"/v1/files/{file_id}"]
    assert fake.files == {} and fake.schema_errors == []


async def test_the_fake_refuses_a_deleted_upload_as_input(fake) -> None:
    import aiohttp

    headers = {"Authorization": "Bearer r8_test"}
    async with aiohttp.ClientSession(headers=headers) as session:
        form = aiohttp.FormData()
        form.add_field("content", _image("PNG", (3, 3, 3)), filename="a.png", content_type="image/png")
        async with session.post(f"{fake.base_url}/files", data=form) as response:
            file = await response.json()
        assert response.status == 201 and file["size"] == len(_image("PNG", (3, 3, 3)))
        async with session.delete(f"{fake.base_url}/files/{file['id']}") as response:
            assert response.status == 204
        body = {"input": {"prompt": "x", "images": [file["urls"]["get"]]}}
        async with session.post(f"{fake.base_url}/models/black-forest-labs/flux-2-klein-4b/predictions",
                                json=body) as response:
            problem = await response.json()
    assert response.status == 422 and problem["invalid_fields"][0]["field"] == "input.images.0"


async def test_a_failed_upload_creates_no_prediction_and_leaves_no_file(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url, max_retries=0)
    fake.fail_like_replicate(402, path="/v1/files")
    images = [ImageInput(kind="bytes", value=_noise_png(600)), ImageInput(kind="bytes", value=_noise_png(600))]
    with pytest.raises(ImagegateError) as info:
        await gateway.run("edit", ImageRequest(prompt="blend", model="flux-2-pro", images=images))
    assert info.value.code == "quota_exceeded"
    assert len(fake.calls_to("/v1/files", "POST")) == 1 and fake.creates == [] and fake.files == {}
