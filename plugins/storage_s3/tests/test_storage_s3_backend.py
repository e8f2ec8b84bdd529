"""The backend against moto's real S3 server (through the S3Front proxy)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import orjson
import pytest
from yarl import URL

from imagegate._errors import InvalidRequest, NotFound, StorageError
from imagegate._ids import new_image_id
from imagegate_storage_s3.testing import S3Front

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def meta_for(image_id: str, data: bytes = PNG, extension: str = "png", mime: str = "image/png") -> dict[str, Any]:
    return {"id": image_id, "extension": extension, "mime_type": mime, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "width": 16, "height": 16, "prompt": "a cat"}


async def test_put_stores_image_and_metadata_beside_it(front: S3Front, bucket: str, s3: Any,
                                                       storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket, prefix="gallery")
    await storage.check_writable()
    image_id = new_image_id()
    saved = await storage.save(image_id, memoryview(PNG), meta_for(image_id))
    assert saved.path is None and saved.sha256 == hashlib.sha256(PNG).hexdigest()
    folder = storage.keys.folder(image_id)
    assert folder.startswith("gallery/")
    image = s3.get_object(Bucket=bucket, Key=f"{folder}{image_id}.png")
    assert image["Body"].read() == PNG
    assert image["ContentType"] == "image/png"
    meta = s3.get_object(Bucket=bucket, Key=f"{folder}{image_id}.json")
    assert meta["ContentType"] == "application/json"
    assert orjson.loads(meta["Body"].read()) == meta_for(image_id)
    assert await storage.read(image_id) == PNG
    assert await storage.metadata(image_id) == meta_for(image_id)
    assert any(r.method == "PUT" and r.headers.get("If-None-Match") == "*" for r in front.received)


async def test_presigned_url_downloads_the_same_bytes(front: S3Front, bucket: str, storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket)
    image_id = new_image_id()
    await storage.save(image_id, PNG, meta_for(image_id))
    url = await storage.url(image_id, 600)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["600"]
    assert urlsplit(url).path == f"/{bucket}/{storage.keys.image_key(image_id, 'png')}"
    async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "image/png"
        assert await answer.read() == PNG
    fresh = storage_factory(front.url, bucket, url_ttl_s=90)  # knows nothing: reads the metadata first
    assert parse_qs(urlsplit(await fresh.url(image_id, 600)).query)["X-Amz-Expires"] == ["90"]


async def test_list_newest_first_with_paging_and_delete(front: S3Front, bucket: str, storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket, prefix="p")
    today = datetime.now(UTC)
    old = new_image_id(today - timedelta(days=40))
    mid = new_image_id(today - timedelta(days=1))
    new_a, new_b = new_image_id(today), new_image_id(today)
    for image_id in (old, mid, new_a, new_b):
        await storage.save(image_id, PNG, meta_for(image_id))
    listed = [m["id"] for m in await storage.list()]
    assert listed[2:] == [mid, old]
    assert set(listed[:2]) == {new_a, new_b}
    first = [m["id"] for m in await storage.list(limit=3)]
    assert first == listed[:3]
    rest = [m["id"] for m in await storage.list(limit=3, before=first[-1])]
    assert rest == [old]
    with pytest.raises(InvalidRequest):
        await storage.list(before="../../x")

    await storage.delete(mid)
    with pytest.raises(NotFound):
        await storage.metadata(mid)
    with pytest.raises(NotFound):
        await storage.read(mid)
    with pytest.raises(NotFound):
        await storage.delete(mid)
    assert [m["id"] for m in await storage.list()] == [*listed[:2], old]
    unrelated = storage_factory(front.url, bucket, prefix="other")
    assert await unrelated.list() == []


async def test_ids_that_are_not_ids_are_not_found(front: S3Front, bucket: str, storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket)
    calls = front.calls
    for hostile in ("../secret", "img_x", f"{new_image_id()}/../../x"):
        with pytest.raises(NotFound):
            await storage.read(hostile)
        with pytest.raises(NotFound):
            await storage.url(hostile, 60)
    assert front.calls == calls  # refused before any request
    with pytest.raises(NotFound):
        await storage.read(new_image_id())


@pytest.mark.parametrize("conditional", [True, False])
async def test_never_overwrites(front: S3Front, bucket: str, storage_factory: Any, conditional: bool) -> None:
    storage = storage_factory(front.url, bucket, conditional_writes=conditional)
    image_id = new_image_id()
    await storage.save(image_id, PNG, meta_for(image_id))
    await storage.save(image_id, PNG, meta_for(image_id))  # the very same write again (a retry) is fine
    other = PNG + b"different"
    with pytest.raises(StorageError) as caught:
        await storage.save(image_id, other, meta_for(image_id, other))
    assert caught.value.retryable is False
    assert "never overwritten" in caught.value.message
    assert await storage.read(image_id) == PNG


async def test_throttling_and_5xx_are_retried(front: S3Front, bucket: str, storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket, max_attempts=4)
    image_id = new_image_id()
    await storage.check_writable()
    front.slow_down()
    front.fail_with(500, "<Error><Code>InternalError</Code><Message>oops</Message></Error>",
                    {"Content-Type": "application/xml"})
    calls = front.calls
    await storage.save(image_id, PNG, meta_for(image_id))
    assert front.calls == calls + 4  # two failed PUTs, then the image and its metadata
    assert await storage.read(image_id) == PNG


async def test_persistent_throttling_is_a_retryable_storage_error(front: S3Front, bucket: str,
                                                                  storage_factory: Any) -> None:
    storage = storage_factory(front.url, bucket, max_attempts=2)
    front.slow_down(times=2)
    with pytest.raises(StorageError) as caught:
        await storage.save(new_image_id(), PNG, meta_for(new_image_id()))
    assert caught.value.retryable is True
    assert "SlowDown" in caught.value.message
    assert bucket in caught.value.message
    assert "testing" not in caught.value.message


async def test_missing_bucket(front: S3Front, storage_factory: Any) -> None:
    storage = storage_factory(front.url, "no-such-bucket-here")
    with pytest.raises(StorageError) as caught:
        await storage.check_writable()
    assert "no-such-bucket-here" in caught.value.message
    assert "STORAGE__S3__BUCKET" in caught.value.message
    assert caught.value.retryable is False
    image_id = new_image_id()
    with pytest.raises(StorageError) as caught:
        await storage.save(image_id, PNG, meta_for(image_id))
    assert "STORAGE__S3__BUCKET" in caught.value.message
    with pytest.raises(StorageError):
        await storage.list()


async def test_unreachable_endpoint(front: S3Front, bucket: str, storage_factory: Any) -> None:
    storage = storage_factory(f"http://user:hunter2@127.0.0.1:{front.port}", bucket, max_attempts=1)
    await front.stop()
    with pytest.raises(StorageError) as caught:
        await storage.check_writable()
    assert caught.value.retryable is True
    assert f"127.0.0.1:{front.port}" in caught.value.message
    assert "hunter2" not in caught.value.message
    assert "cannot reach" in caught.value.message


async def test_of_concurrent_deletes_of_one_id_exactly_one_succeeds(front: S3Front, bucket: str, s3: Any,
                                                                   storage_factory: Any) -> None:
    """The metadata is deleted with ``If-Match`` on the ETag each call found: one call wins."""
    import asyncio

    storages = [storage_factory(front.url, bucket) for _ in range(8)]  # as if 8 gateway replicas
    for _ in range(5):
        image_id = new_image_id()
        await storages[0].save(image_id, PNG, meta_for(image_id))
        for storage in storages:  # every replica knows the image (its extension is remembered)
            await storage.metadata(image_id)
        results = await asyncio.gather(*(s.delete(image_id) for s in storages), return_exceptions=True)
        assert results.count(None) == 1, results
        assert all(isinstance(r, NotFound) for r in results if r is not None)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
