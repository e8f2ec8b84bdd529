"""Helpers of the MCP end-to-end tests: a client session over streamable HTTP, and the checks every
successful call's result must pass."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pybase64

from .support import SECRETS

__all__ = ["http_session", "no_secrets", "read_image", "success"]


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[Any]:
    """An initialized ``ClientSession`` over streamable HTTP (enter it in the test's own task)."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def no_secrets(result: Any) -> None:
    dumped = result.model_dump_json()
    for secret in SECRETS:
        assert secret not in dumped


def success(result: Any) -> dict[str, Any]:
    """The structured content of a successful call, checked against CONTRACT.md's shape."""
    assert result.is_error is False, result.content[0].text
    data = result.structured_content
    assert set(data) >= {"images", "model", "provider", "revised_prompt", "cost", "request_id"}
    # "unofficial" only where the model's prices are not the provider's published ones
    assert set(data["cost"]) - {"unofficial"} == {"estimated_usd", "actual_usd"}
    assert data["cost"].get("unofficial", True) is True
    for image in data["images"]:
        assert set(image) >= {"id", "uri", "path", "url", "mime_type", "width", "height", "bytes", "sha256"}
        assert image["uri"] == f"imagegate://images/{image['id']}"
    assert result.content[0].type == "text" and json.loads(result.content[0].text) == data
    no_secrets(result)
    return data


async def read_image(session: Any, uri: str) -> tuple[bytes, str]:
    """``resources/read`` of an image URI: its bytes and MIME type."""
    read = await session.read_resource(uri)
    (content,) = read.contents
    return pybase64.b64decode(content.blob), content.mime_type
