"""Retention on a bucket (moto): ages and sizes come from the listing, deletions remove both objects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from imagegate import hookimpl
from imagegate._gateway import Gateway
from imagegate._models import ImageRequest
from imagegate._retention import collect_garbage
from imagegate._settings import Settings
from imagegate_storage_s3.testing import S3Front

REQUEST = ImageRequest(prompt="a lighthouse", size="64x64")


def settings(front: S3Front, bucket: str, tmp_path: Path, **retention: Any) -> Settings:
    return Settings(storage={"backend": "s3", "spool_dir": str(tmp_path / "spool"), **retention,
                             "s3": {"bucket": bucket, "endpoint_url": front.url, "max_attempts": 2}})


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


class Protector:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    @hookimpl
    def protected_image_ids(self, gateway: Gateway) -> set[str]:
        return self.ids


async def test_old_images_go_unless_protected_and_dry_run_keeps_them(
        front: S3Front, bucket: str, s3: Any, tmp_path: Path, gateway_factory: Any) -> None:
    gateway = await gateway_factory(settings(front, bucket, tmp_path, retention_days=7))
    protector = Protector()
    gateway.pm.register(protector, name="jobs")
    kept, gone = [(await gateway.generate(REQUEST)).images[0].id for _ in range(2)]
    protector.ids = {kept}
    later = datetime.now(UTC) + timedelta(days=8)

    assert (await collect_garbage(gateway)).deleted == []  # stored just now
    dry = await collect_garbage(gateway, dry_run=True, now=later)
    assert [e.image_id for e, _ in dry.deleted] == [gone] and dry.protected == 1
    assert len(keys(s3, bucket)) == 4

    gone_bytes = sum(item["Size"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"] if gone in item["Key"])
    report = await collect_garbage(gateway, now=later)
    assert [(e.image_id, reason) for e, reason in report.deleted] == [(gone, "age")]
    assert report.bytes == gone_bytes  # the image and its metadata
    assert all(kept in key for key in keys(s3, bucket)) and len(keys(s3, bucket)) == 2


async def test_the_size_cap_deletes_the_oldest_until_under_and_grace_holds(
        front: S3Front, bucket: str, s3: Any, tmp_path: Path, gateway_factory: Any) -> None:
    gateway = await gateway_factory(settings(front, bucket, tmp_path, max_size_gb=1 / 1024**3))  # 1 byte
    first = (await gateway.generate(REQUEST)).images[0].id
    await asyncio.sleep(1.1)  # S3 keeps whole seconds: give the second image a later LastModified
    second = (await gateway.generate(REQUEST)).images[0].id
    later = datetime.now(UTC) + timedelta(hours=2)

    assert (await collect_garbage(gateway)).deleted == []  # both within the 1 h grace
    sizes = {e.image_id: e.bytes for e in await gateway.storage.inventory()}
    gateway.settings.storage.max_size_gb = sizes[second] / 1024**3  # room for exactly one
    report = await collect_garbage(gateway, now=later)
    assert [(e.image_id, reason) for e, reason in report.deleted] == [(first, "size")]
    assert report.stored_bytes == sum(sizes.values()) and report.bytes == sizes[first]
    assert all(second in key for key in keys(s3, bucket)) and len(keys(s3, bucket)) == 2
