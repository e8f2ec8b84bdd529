"""No paid-for image is lost: a bucket that goes away spools it, and the spool drains when it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from imagegate._errors import StorageError
from imagegate._models import ImageRequest
from imagegate_storage_s3.drain import drain_periodically
from imagegate_storage_s3.testing import S3Front, gateway_settings

REQUEST = ImageRequest(prompt="a red fox in the snow", size="64x64")


async def spool_one(gateway: Any, front: S3Front) -> tuple[str, Path]:
    """Generate while the endpoint is gone; return the spooled image's id and path."""
    await front.stop()
    with pytest.raises(StorageError) as caught:
        await gateway.generate(REQUEST)
    assert caught.value.spool_path is not None
    spooled = Path(caught.value.spool_path)
    return spooled.stem, spooled


async def test_generate_stores_in_the_bucket(front: S3Front, bucket: str, s3: Any, tmp_path: Path,
                                             gateway_factory: Any) -> None:
    gateway = await gateway_factory(gateway_settings(front.url, bucket, tmp_path / "spool"))
    result = await gateway.generate(REQUEST)
    image = result.images[0]
    assert image.path is None
    assert image.url is not None and image.url.startswith(f"{front.url}/{bucket}/")
    key = gateway.storage.keys.image_key(image.id, "png")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == bytes(image.data)
    described = await gateway.describe(image.id)
    assert described.sha256 == image.sha256
    assert described.path is None
    assert [m["id"] for m in await gateway.list()] == [image.id]


async def test_bucket_goes_away_then_comes_back(front: S3Front, bucket: str, s3: Any, tmp_path: Path,
                                               gateway_factory: Any) -> None:
    gateway = await gateway_factory(gateway_settings(front.url, bucket, tmp_path / "spool"))
    image_id, spooled = await spool_one(gateway, front)
    assert spooled.is_file()
    assert spooled.is_relative_to(tmp_path / "spool")
    data = spooled.read_bytes()
    assert await gateway.read(image_id) == data  # `get ID` serves it from the spool meanwhile
    assert (await gateway.metadata(image_id))["id"] == image_id
    assert (await gateway.describe(image_id)).url == spooled.as_uri()

    await front.start()  # same port
    assert await gateway.drain_spool() == [image_id]
    assert gateway.spool.ids_sync() == []
    assert not spooled.exists()
    assert await gateway.storage.read(image_id) == data
    assert await gateway.read(image_id) == data
    key = gateway.storage.keys.image_key(image_id, spooled.suffix[1:])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


async def test_the_spool_drains_when_a_gateway_opens(front: S3Front, bucket: str, tmp_path: Path,
                                                    gateway_factory: Any) -> None:
    settings = gateway_settings(front.url, bucket, tmp_path / "spool")
    first = await gateway_factory(settings)
    image_id, spooled = await spool_one(first, front)
    await front.start()
    second = await gateway_factory(settings)  # the startup hook drains
    assert not spooled.exists()
    assert second.spool.ids_sync() == []
    assert (await second.storage.metadata(image_id))["id"] == image_id


async def test_periodic_drain(front: S3Front, bucket: str, tmp_path: Path, gateway_factory: Any) -> None:
    gateway = await gateway_factory(gateway_settings(front.url, bucket, tmp_path / "spool"))
    image_id, spooled = await spool_one(gateway, front)
    await front.start()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await drain_periodically(gateway, 30.0, sleep=sleep)
    assert waits == [30.0, 30.0, 30.0]
    assert not spooled.exists()
    assert await gateway.storage.read(image_id) == await gateway.read(image_id)


async def test_periodic_drain_runs_while_open_and_stops_on_close(front: S3Front, bucket: str, tmp_path: Path,
                                                                 gateway_factory: Any) -> None:
    def drains() -> list[asyncio.Task[Any]]:
        return [task for task in asyncio.all_tasks()
                if getattr(task.get_coro(), "__qualname__", "") == "drain_periodically"]

    quiet = await gateway_factory(gateway_settings(front.url, bucket, tmp_path / "a", drain_interval_s=0))
    assert drains() == []  # STORAGE__S3__DRAIN_INTERVAL_S=0 turns it off
    await quiet.aclose()
    gateway = await gateway_factory(gateway_settings(front.url, bucket, tmp_path / "b"))
    running = drains()
    assert len(running) == 1  # on by default
    assert gateway.storage.config.drain_interval_s == 60
    await gateway.aclose()
    assert running[0].cancelled()
    assert drains() == []
