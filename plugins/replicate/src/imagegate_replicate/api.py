"""The Replicate HTTP calls one attempt needs: models, versions, files, create, poll and cancel.

Every request carries the bearer token and the gateway's trace headers. ``urls.get`` and
``urls.cancel`` of a prediction are followed only when they point at the configured API root, so
the token is never sent anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from imagegate import ImagegateError, UpstreamError

from .errors import error_from_response

if TYPE_CHECKING:
    import aiohttp

    from imagegate import InputImage

    from .settings import ReplicateSettings

__all__ = ["ReplicateAPI"]

log = logging.getLogger("imagegate.replicate")


class ReplicateAPI:
    """One session, one token, one set of extra headers."""

    def __init__(self, session: aiohttp.ClientSession, config: ReplicateSettings,
                 headers: Mapping[str, str] | None = None, renames: Mapping[str, str] | None = None) -> None:
        self.session = session
        self.config = config
        self.root = config.api_root
        self._headers = {**(headers or {}), "Authorization": f"Bearer {config.token()}"}
        self._renames = dict(renames or {})

    async def _request(self, method: str, url: str, *, json: Any = None, data: Any = None,
                       headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        import orjson

        merged = {**self._headers, **(headers or {})}
        async with self.session.request(method, url, json=json, data=data, headers=merged) as response:
            body = await response.read()
            if response.status >= 400:
                raise error_from_response(response.status, body, response.headers, renames=self._renames)
        if method == "DELETE":
            return {}
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            msg = f"Replicate answered {method} {url.removeprefix(self.root)} with something that is not JSON"
            raise UpstreamError(msg)
        return parsed

    async def model(self, owner: str, name: str) -> dict[str, Any]:
        return await self._request("GET", f"{self.root}/models/{owner}/{name}")

    async def version(self, owner: str, name: str, version: str) -> dict[str, Any]:
        return await self._request("GET", f"{self.root}/models/{owner}/{name}/versions/{version}")

    async def upload(self, image: InputImage) -> dict[str, Any]:
        """``POST /files``: the file object, whose ``urls.get`` a prediction can take as input."""
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("content", image.data, filename=image.filename, content_type=image.mime_type)
        return await self._request("POST", f"{self.root}/files", data=form)

    async def delete_file(self, file: dict[str, Any]) -> None:
        """Delete an uploaded input file; failures are logged (Replicate expires files itself)."""
        from urllib.parse import quote

        import aiohttp

        file_id = file.get("id")
        if not isinstance(file_id, str) or not file_id:
            return
        try:
            async with asyncio.timeout(self.config.cancel_timeout_s):
                await self._request("DELETE", f"{self.root}/files/{quote(file_id, safe='')}")
        except (aiohttp.ClientError, TimeoutError, ImagegateError) as exc:
            log.warning("deleting Replicate file %s failed: %s", file.get("id"), type(exc).__name__)

    async def create(self, upstream: str, version: str | None, model_input: dict[str, Any], *,
                     prefer_wait: int | None, cancel_after: str | None) -> dict[str, Any]:
        """Create a prediction: on the official-model endpoint, or by version for community models."""
        headers: dict[str, str] = {}
        if prefer_wait:
            headers["Prefer"] = f"wait={prefer_wait}"
        if cancel_after:
            headers["Cancel-After"] = cancel_after
        if version:
            return await self._request("POST", f"{self.root}/predictions",
                                       json={"version": version, "input": model_input}, headers=headers)
        owner, _, name = upstream.partition("/")
        return await self._request("POST", f"{self.root}/models/{owner}/{name}/predictions",
                                   json={"input": model_input}, headers=headers)

    def _url(self, prediction: dict[str, Any], kind: str) -> str:
        urls = prediction.get("urls") or {}
        given = urls.get(kind) if isinstance(urls, dict) else None
        if isinstance(given, str) and given.startswith(self.root + "/"):
            return given
        own = f"{self.root}/predictions/{prediction['id']}"
        return own if kind == "get" else f"{own}/cancel"

    async def get(self, prediction: dict[str, Any]) -> dict[str, Any]:
        return await self._request("GET", self._url(prediction, "get"))

    async def cancel(self, prediction: dict[str, Any]) -> None:
        """Ask Replicate to stop a prediction; failures are logged (the deadline still stops it)."""
        import aiohttp

        try:
            async with asyncio.timeout(self.config.cancel_timeout_s):
                await self._request("POST", self._url(prediction, "cancel"))
        except (aiohttp.ClientError, TimeoutError, ImagegateError) as exc:
            log.warning("cancelling Replicate prediction %s failed: %s", prediction.get("id"),
                        type(exc).__name__)
