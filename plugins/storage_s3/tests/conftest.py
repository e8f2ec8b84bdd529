"""A moto S3 server for the session, a proxy in front of it per test, and a fresh bucket per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import imagegate_storage_s3
from imagegate._gateway import Gateway
from imagegate._settings import Settings
from imagegate._plugins import make_plugin_manager
from imagegate_storage_s3.backend import S3Storage
from imagegate_storage_s3.settings import S3Settings
from imagegate_storage_s3.testing import FAKE_AWS_ENV, MotoServer, S3Front, bucket_client, new_bucket


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region; no IMDS, no ~/.aws, no endpoint from the environment."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    return new_bucket(moto_server.url)


@pytest.fixture
def s3(moto_server: MotoServer) -> Any:
    return bucket_client(moto_server.url)


@pytest.fixture
async def front(moto_server: MotoServer) -> AsyncIterator[S3Front]:
    proxy = S3Front(moto_server.url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
async def storage_factory() -> AsyncIterator[Any]:
    """Build S3Storage objects that are closed after the test."""
    made: list[S3Storage] = []

    def make(endpoint: str, bucket: str, **options: Any) -> S3Storage:
        options.setdefault("max_attempts", 2)
        storage = S3Storage(S3Settings(bucket=bucket, endpoint_url=endpoint, **options))
        made.append(storage)
        return storage

    try:
        yield make
    finally:
        for storage in made:
            await storage.aclose()


@pytest.fixture
async def gateway_factory() -> AsyncIterator[Any]:
    """Open gateways with the placeholder provider and this plugin; closed after the test."""
    opened: list[Gateway] = []

    async def make(settings: Settings) -> Gateway:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_storage_s3, name="storage-s3")
        gateway = Gateway(settings, pm)
        opened.append(gateway)
        return await gateway.open()

    try:
        yield make
    finally:
        for gateway in opened:
            await gateway.aclose()
