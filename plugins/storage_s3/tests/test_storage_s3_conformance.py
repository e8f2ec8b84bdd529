"""The storage conformance suite of ``imagegate.testing``, run against a fresh bucket on moto."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate.testing import StorageConformance
from imagegate_storage_s3.backend import S3Storage
from imagegate_storage_s3.testing import S3Front


class TestS3StorageConformance(StorageConformance):
    @pytest.fixture
    def storage(self, front: S3Front, bucket: str, storage_factory: Any) -> S3Storage:
        return storage_factory(front.url, bucket)


class TestS3StorageConformanceWithoutConditionalWrites(StorageConformance):
    @pytest.fixture
    def storage(self, front: S3Front, bucket: str, storage_factory: Any) -> S3Storage:
        return storage_factory(front.url, bucket, prefix="images/v1", conditional_writes=False)
