"""Any official model as ``replicate/owner/name``: its schema read once and enforced before the
prediction; unknown models; the spec cache; and the listing ``imagegate models --check`` uses."""

from __future__ import annotations

import asyncio
import io

import pytest

from imagegate._errors import ImagegateError, UpstreamError
from imagegate._models import ImageInput, ImageRequest
from imagegate_replicate.catalog import FLUX2_MODELS, builtin_models, flux2_model
from imagegate_replicate.fake_schemas import FLUX2
from imagegate_replicate.schema import spec_from_schema
from imagegate_replicate.spec_cache import SpecCache

KLEIN_9B = "black-forest-labs/flux-2-klein-9b"  # served by Replicate, not in the catalog


def _add_klein_9b(fake) -> None:
    source = FLUX2["black-forest-labs/flux-2-klein-4b"]
    fake.add_model(KLEIN_9B, source["schema"], version="9" * 64, official=True, output_list=True,
                   default_format="jpg")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (5, 6, 7)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_official_model_by_name_reads_its_schema_once(fake, make_gateway) -> None:
    _add_klein_9b(fake)
    gateway = await make_gateway(fake.base_url)
    model = f"replicate/{KLEIN_9B}"
    first = await gateway.run("generate", ImageRequest(prompt="a cat", model=model, params={"go_fast": True}))
    second = await gateway.run("edit", ImageRequest(prompt="the cat, in blue", model=model,
                                                    images=[ImageInput(kind="bytes", value=_png())]))
    assert len(fake.calls_to(f"/v1/models/{KLEIN_9B}", "GET")) == 1
    assert [c.path for c in fake.creates] == [f"/v1/models/{KLEIN_9B}/predictions"] * 2
    assert fake.creates[0].body == {"input": {"prompt": "a cat", "go_fast": True}}
    assert len(fake.creates[1].body["input"]["images"]) == 1
    assert first.model == second.model == KLEIN_9B
    assert first.images[0].mime_type == "image/jpeg"
    assert fake.schema_errors == []


async def test_bad_input_for_a_model_by_name_is_refused_before_the_prediction(fake, make_gateway) -> None:
    _add_klein_9b(fake)
    gateway = await make_gateway(fake.base_url)
    for params, param in [({"output_quality": 101}, "output_quality"), ({"steps": 4}, "steps")]:
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model=f"replicate/{KLEIN_9B}", params=params))
        assert (info.value.code, info.value.param) == ("invalid_request", param)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("edit", ImageRequest(prompt="a cat", model=f"replicate/{KLEIN_9B}",
                                               images=[ImageInput(kind="bytes", value=_png())] * 6))
    assert (info.value.code, info.value.param) == ("invalid_request", "image")
    assert fake.creates == []
    assert len(fake.calls_to(f"/v1/models/{KLEIN_9B}", "GET")) == 1


async def test_concurrent_first_requests_share_one_schema_read(fake, make_gateway) -> None:
    _add_klein_9b(fake)
    gateway = await make_gateway(fake.base_url)
    results = await asyncio.gather(*(gateway.run("generate", ImageRequest(prompt=f"cat {i}", model=f"replicate/{KLEIN_9B}"))
                                     for i in range(3)))
    assert len(results) == 3 and len(fake.creates) == 3
    assert len(fake.calls_to(f"/v1/models/{KLEIN_9B}", "GET")) == 1


async def test_unknown_model_is_not_found_naming_it(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url)
    for model, named in [("replicate/nobody/nothing", "model nobody/nothing"),
                         (f"replicate/nobody/nothing:{'a' * 64}", f"version {'a' * 64} of model nobody/nothing")]:
        with pytest.raises(ImagegateError) as info:
            await gateway.run("generate", ImageRequest(prompt="a cat", model=model))
        assert (info.value.code, info.value.param, info.value.provider) == ("not_found", "model", "replicate")
        assert named in info.value.message
    assert fake.creates == []


async def test_a_failed_schema_read_is_not_kept(fake, make_gateway) -> None:
    gateway = await make_gateway(fake.base_url, max_retries=0)
    fake.fail_like_replicate(429, path="/models/black-forest-labs/flux-2-klein-9b")
    _add_klein_9b(fake)
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model=f"replicate/{KLEIN_9B}"))
    assert info.value.code == "rate_limited"
    result = await gateway.run("generate", ImageRequest(prompt="a cat", model=f"replicate/{KLEIN_9B}"))
    assert len(result.images) == 1 and len(fake.calls_to(f"/v1/models/{KLEIN_9B}", "GET")) == 2


@pytest.mark.parametrize("model_id", sorted(FLUX2_MODELS))
def test_the_served_cog_schema_gives_the_catalog_parameters(model_id) -> None:
    upstream = FLUX2_MODELS[model_id][0]
    served = spec_from_schema(upstream, FLUX2[upstream]["schema"], version=None)
    catalog = flux2_model(model_id)
    published = {name: p.model_dump() for name, p in served.params.items()}
    if published["output_format"]["enum"] is None:  # unpublished values: the catalog lists the usual three
        published["output_format"]["enum"] = catalog.output_formats
        assert sorted(catalog.output_formats) == ["jpg", "png", "webp"]
    assert published == {name: p.model_dump() for name, p in catalog.params.items()}
    assert (served.options["image_param"], served.max_input_images) == (
        catalog.options["image_param"], catalog.max_input_images)


async def test_spec_cache_is_bounded_and_keeps_no_failure() -> None:
    cache = SpecCache(size=2)
    fetched: list[str] = []

    async def fetch(ref: str):
        fetched.append(ref)
        await asyncio.sleep(0)
        if ref == "bad/model":
            raise UpstreamError("boom")
        return spec_from_schema(ref, FLUX2["black-forest-labs/flux-2-pro"]["schema"], version=None)

    for ref in ["a/one", "b/two", "a/one", "c/three", "a/one", "b/two"]:
        assert (await cache.get(ref, lambda ref=ref: fetch(ref))).id == ref
    assert fetched == ["a/one", "b/two", "c/three", "b/two"]  # b/two was the least recently used
    assert len(cache) == 2
    for _ in range(2):
        with pytest.raises(UpstreamError):
            await cache.get("bad/model", lambda: fetch("bad/model"))
    assert fetched.count("bad/model") == 2


async def test_list_upstream_models_names_what_replicate_still_serves(fake, make_gateway) -> None:
    del fake.models["black-forest-labs/flux-dev"]  # as if Replicate had removed it
    gateway = await make_gateway(fake.base_url)
    provider = gateway.registry.providers["replicate"]
    listed = await provider.list_upstream_models(gateway.session)
    expected = sorted({spec.upstream for spec in builtin_models()} - {"black-forest-labs/flux-dev"})
    assert listed == [{"id": upstream, "shutdown_date": None} for upstream in expected]
    assert len(fake.calls_to("/v1/models/", "GET")) == len(expected) + 1
    fake.fail_like_replicate(401, times=20)
    with pytest.raises(ImagegateError) as info:
        await provider.list_upstream_models(gateway.session)
    assert info.value.code == "authentication"


def test_lifecycle_and_tool_data() -> None:
    specs = {spec.id: spec for spec in builtin_models()}
    assert all((spec.status, spec.shutdown_date, spec.replacement) == ("active", None, None)
               for spec in specs.values())
    assert [spec.id for spec in specs.values() if spec.recommended] == ["flux-2-pro"]
    tools = {spec.id: spec.tool.name for spec in specs.values() if spec.tool}
    assert tools == {"flux-dev": "generate-fluxdev", "flux-1.1-pro": "generate-fluxpro",
                     "recraft-v3-svg": "generate-svg", **dict.fromkeys(FLUX2_MODELS, "generate-flux2")}
    flux2_defaults = [spec.id for spec in specs.values() if spec.tool and spec.tool.default]
    assert flux2_defaults == ["flux-2-pro"]
    for model_id in FLUX2_MODELS:
        spec = specs[model_id]
        priced = bool(spec.pricing.per_image)
        assert spec.pricing.source == ("unofficial" if priced else "unknown") and "price_source" not in spec.options
        assert ("unofficial estimate" if priced else "Price: unknown") in spec.description
    assert specs["flux-dev"].pricing.per_image[0].usd == 0.025 and specs["flux-dev"].pricing.source == "official"


INPAINT = "acme/inpaint"


def _inpaint_schema():
    from imagegate_replicate.fake_schemas import cog_schema

    uri = {"type": "string", "format": "uri"}
    return cog_schema({"prompt": {"type": "string"}, "input_image": {**uri, "description": "Image to edit"},
                       "mask": {**uri, "description": "White where to paint"},
                       "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.8}},
                      {}, ["prompt", "input_image"], {"type": "string", "format": "uri"})


def test_a_required_single_image_input_makes_an_edit_only_model_with_a_mask() -> None:
    spec = spec_from_schema(INPAINT, _inpaint_schema(), version=None)
    assert spec.operations == ["edit"] and spec.mask is True and spec.max_input_images == 1
    assert (spec.options["image_param"], spec.options["image_list"], spec.options["mask_param"]) == (
        "input_image", False, "mask")
    assert set(spec.params) == {"strength"}


async def test_an_edit_with_a_mask_on_a_model_by_name(fake, make_gateway) -> None:
    from imagegate_replicate.testing import decode_file_input

    fake.add_model(INPAINT, _inpaint_schema(), version="1" * 64, official=True, output_list=False)
    gateway = await make_gateway(fake.base_url)
    image, mask = _png(), _png()
    with pytest.raises(ImagegateError) as info:
        await gateway.run("generate", ImageRequest(prompt="a cat", model=f"replicate/{INPAINT}"))
    assert (info.value.code, info.value.param) == ("invalid_request", "model")
    await gateway.run("edit", ImageRequest(prompt="a hat", model=f"replicate/{INPAINT}", params={"strength": 0.5},
                                           images=[ImageInput(kind="bytes", value=image)],
                                           mask=ImageInput(kind="bytes", value=mask)))
    sent = fake.creates[0].body["input"]
    assert decode_file_input(sent["input_image"]) == ("image/png", image)
    assert decode_file_input(sent["mask"]) == ("image/png", mask)
    assert sent["strength"] == 0.5 and fake.schema_errors == []
