"""Every front-end against the real provider plugins, with their upstreams faked on loopback.

A user points imagegate at a provider with environment variables; these fixtures do the same.
Each fake runs on a free 127.0.0.1 port and is stopped at teardown, even when a test fails:

- ``fake_openai`` — :class:`imagegate_openai.testing.FakeOpenAI`, checking the key and validating
  every request against the SDK's types and ``specs/2026`` and every answer against the SDK's models;
- ``fake_replicate`` — :class:`imagegate_replicate.testing.FakeReplicate`, the same for Replicate,
  serving the prediction outputs itself;
- ``moto_server`` / ``bucket`` — moto's S3 server (one per session) and a fresh bucket per test.

``upstream_env`` is the environment a user would set (``PROVIDERS__OPENAI__BASE_URL`` and
``PROVIDERS__REPLICATE__BASE_URL`` naming the fakes, keys, local storage under ``tmp_path``);
``s3_env`` adds ``STORAGE__BACKEND=s3`` and the bucket. Hand either to a subprocess, or to
``env_gateway(env)``, which opens a gateway the way ``imagegate serve`` does: settings from the
environment, plugins from their installed entry points. Helpers tests import (the keys,
``run_cli``, ``s3_client``) live in ``support.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from .support import OPENAI_KEY, REPLICATE_TOKEN, SIGNING_KEY, SPECS


# Variables from the developer's shell that would change what the tests talk to.
_FOREIGN = ("IMAGEGATE_CONFIG", "IMAGEGATE_DISABLE_PLUGINS", "OPENAI_API_KEY", "REPLICATE_API_TOKEN",
            "GEMINI_API_KEY", "GOOGLE_API_KEY",
            "GATEWAY__PUBLIC_URL", "GATEWAY__API_KEYS", "GATEWAY__DEFAULT_MODEL", "STORAGE__BACKEND",
            "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "AWS_PROFILE", "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3", "AWS_REGION")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in _FOREIGN:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__", "MCP__", "HTTP__", "REDIS__", "JOBS__")):
            monkeypatch.delenv(name)


@pytest.fixture
async def fake_openai() -> AsyncIterator[Any]:
    from imagegate_openai.testing import REQUEST_SCHEMAS, FakeOpenAI

    async with FakeOpenAI(request_schemas=SPECS / REQUEST_SCHEMAS, api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
async def fake_replicate() -> AsyncIterator[Any]:
    from imagegate_replicate.testing import FakeReplicate

    async with FakeReplicate(token=REPLICATE_TOKEN, spec_path=SPECS / "replicate.predictions.openapi.json") as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Any]:
    from imagegate_storage_s3.testing import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def bucket(moto_server: Any) -> str:
    from imagegate_storage_s3.testing import new_bucket

    return new_bucket(moto_server.url, "e2e")


@pytest.fixture
def upstream_env(tmp_path: Path, fake_openai: Any, fake_replicate: Any) -> dict[str, str]:
    """What a user sets to reach both (faked) providers, with local storage under ``tmp_path``."""
    return {
        "PROVIDERS__OPENAI__BASE_URL": fake_openai.base_url,
        "PROVIDERS__OPENAI__API_KEY": OPENAI_KEY,
        "PROVIDERS__OPENAI__MAX_RETRIES": "0",
        "PROVIDERS__REPLICATE__BASE_URL": fake_replicate.base_url,
        "PROVIDERS__REPLICATE__API_TOKEN": REPLICATE_TOKEN,
        "PROVIDERS__REPLICATE__MAX_RETRIES": "0",
        "STORAGE__LOCAL__ROOT": str(tmp_path / "images"),
        "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
        "GATEWAY__URL_SIGNING_KEY": SIGNING_KEY,
    }


@pytest.fixture
def s3_env(upstream_env: dict[str, str], moto_server: Any, bucket: str) -> dict[str, str]:
    """``upstream_env`` storing to ``bucket`` on the moto server (fake AWS credentials)."""
    from imagegate_storage_s3.testing import FAKE_AWS_ENV

    return {**upstream_env, **FAKE_AWS_ENV, "STORAGE__BACKEND": "s3", "STORAGE__S3__BUCKET": bucket,
            "STORAGE__S3__ENDPOINT_URL": moto_server.url, "STORAGE__S3__MAX_ATTEMPTS": "1"}


EnvGateway = Callable[[dict[str, str]], Awaitable[Any]]


@pytest.fixture
async def env_gateway(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EnvGateway]:
    """``await env_gateway(env)``: an opened gateway configured only by ``env``; closed afterwards."""
    from imagegate._gateway import open_gateway

    async with AsyncExitStack() as stack:
        async def open_with(env: dict[str, str]) -> Any:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            return await stack.enter_async_context(open_gateway())

        yield open_with


@pytest.fixture
async def mcp_url(env_gateway: Any, upstream_env: dict[str, str]) -> AsyncIterator[str]:
    """The MCP server over a gateway configured only by ``upstream_env`` (local storage)."""
    gateway = await env_gateway(upstream_env)
    from imagegate_mcp.testing import serve_streamable_http

    async with serve_streamable_http(gateway) as url:
        yield url
