"""The storing stage on its own: verify, hash, store atomically with metadata, spool on failure."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from imagegate._catalog import validate_request
from imagegate._errors import StorageError, UpstreamError
from imagegate._events import Event, ImageStored
from imagegate._filestore import FileStore
from imagegate._jobs import Delivery, Job
from imagegate._middleware import Step
from imagegate._provider import ProviderImage, ProviderResult, Usage
from imagegate._redact import Redactor
from imagegate._storage import Saved
from imagegate._storing import ImageStorer, sha256_hex
from imagegate.testing import image_bytes

from .pipeline_support import BrokenStorage, Scripted, fake_spec


class HashingStorage(BrokenStorage):
    """A backend that hashes while it writes (``computes_sha256``) and returns the digest."""

    computes_sha256 = True

    def __init__(self) -> None:
        super().__init__(None)
        self.fail = False
        self.given: list[dict[str, Any]] = []

    async def save(self, image_id: str, data: Any, metadata: dict[str, Any]) -> Saved:  # type: ignore[override]
        self.given.append(dict(metadata))
        await super().save(image_id, data, {**metadata, "sha256": hashlib.sha256(data).hexdigest()})
        return Saved(path=f"/mem/{image_id}.png", sha256=hashlib.sha256(data).hexdigest())


def job(**delivery: Any) -> Job:
    spec = fake_spec()
    valid = validate_request(spec, "generate", prompt="a cat", size=None, n=2, params={}, image_count=0,
                             has_mask=False)
    return Job(request_id="req_1", operation="generate", spec=spec, provider=Scripted(), limits=None,  # type: ignore[arg-type]
               valid=valid, images=[], mask=None, deadline=0.0, estimated_usd=0.2,
               parameters=valid.effective(spec), delivery=Delivery(frontend="cli", **delivery))


def storer(storage: Any, tmp_path: Path, events: list[Event], steps: list[Step]) -> ImageStorer:
    async def run_step(step: Step, call: Any) -> Any:
        steps.append(step)
        return await call()

    return ImageStorer(storage, FileStore(tmp_path / "spool"), url_ttl_s=60, redactor=Redactor([]),
                       run_step=run_step, emit=events.append)


async def test_images_are_stored_with_metadata_and_the_backends_digest(tmp_path: Path) -> None:
    storage, events, steps = HashingStorage(), [], []
    data = image_bytes(16, 8)
    results = [ProviderResult(images=[ProviderImage(data, "image/png", revised_prompt="a tabby", b64=b"x")],
                              usage=Usage(output_image_tokens=10), actual_cost_usd=0.05, provider_request_id="up")] * 2
    result = await storer(storage, tmp_path, events, steps).store_all(job(), results)
    digest = hashlib.sha256(data).hexdigest()
    assert [image.sha256 for image in result.images] == [digest, digest]
    assert all(given["sha256"] is None for given in storage.given)  # the backend hashes; its dict is a copy
    assert [image.path for image in result.images] == [f"/mem/{i.id}.png" for i in result.images]
    assert (result.images[0].width, result.images[0].height, result.revised_prompt) == (16, 8, "a tabby")
    assert result.cost.as_dict() == {"estimated_usd": 0.2, "actual_usd": 0.1}
    assert result.usage is not None and result.usage["output_image_tokens"] == 20
    assert result.notes == ["fake-model makes one image per call; the gateway made 2 calls"]
    meta = storage.meta[result.images[0].id]
    assert meta["frontend"] == "cli" and meta["provider_request_id"] == "up" and meta["cost"]["actual_usd"] == 0.1
    assert [s.kind for s in steps] == ["storage_write", "storage_write"]
    assert [type(e) for e in events] == [ImageStored, ImageStored]
    assert all(image.b64 is None for image in result.images)  # let go: the caller does not answer base64


async def test_base64_is_kept_for_a_caller_answering_base64(tmp_path: Path) -> None:
    results = [ProviderResult(images=[ProviderImage(image_bytes(4, 4), "image/png", b64=b"canonical")])]
    result = await storer(HashingStorage(), tmp_path, [], []).store_all(job(keep_base64=True), results)
    assert result.images[0].b64 == b"canonical"


async def test_a_failed_store_spools_every_image_and_names_their_ids(tmp_path: Path) -> None:
    storage, events = BrokenStorage(None), []
    data = image_bytes(8, 8)
    results = [ProviderResult(images=[ProviderImage(data, "image/png")] * 2)]
    the_job = job()
    with pytest.raises(StorageError) as caught:
        await storer(storage, tmp_path, events, []).store_all(the_job, results)
    ids = caught.value.to_dict()["image_ids"]
    assert len(ids) == 2 and all(image_id in caught.value.message for image_id in ids)
    spool = FileStore(tmp_path / "spool")
    assert [await spool.read(image_id) for image_id in ids] == [data, data]
    assert (await spool.metadata(ids[0]))["sha256"] == hashlib.sha256(data).hexdigest()
    assert caught.value.to_dict()["spool_path"] == str(spool.image_path(ids[0], "png"))
    assert the_job.paid is not None and the_job.paid.estimated_usd == 0.2  # spent all the same
    assert events == []


async def test_bytes_that_are_not_the_declared_image_are_an_upstream_error(tmp_path: Path) -> None:
    storage = HashingStorage()
    results = [ProviderResult(images=[ProviderImage(b"<html>oops</html>", "image/png")])]
    with pytest.raises(UpstreamError, match="fake returned unusable image data") as caught:
        await storer(storage, tmp_path, [], []).store_all(job(), results)
    assert caught.value.retryable is False and storage.saved == {}


async def test_big_images_are_hashed_off_the_event_loop_with_the_same_digest() -> None:
    big = b"\x01" * (1024 * 1024)
    assert await sha256_hex(big) == hashlib.sha256(big).hexdigest()
    assert await sha256_hex(b"small") == hashlib.sha256(b"small").hexdigest()
