"""The S3 storage backend: images and their metadata JSON as objects in one bucket.

The aiobotocore client is created on first use (backend factories are synchronous) and closed in
:meth:`S3Storage.aclose`. botocore retries throttling, 5xx answers and dropped connections itself
(``retry_mode``/``max_attempts``); whatever still fails becomes a ``StorageError``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import orjson

from imagegate import InvalidRequest, NotFound, StorageError
from imagegate.files import is_image_id
from imagegate import Saved, Settings, StoredEntry

from .failures import Where, error_code, map_error
from .keys import KeyLayout
from .settings import MAX_PRESIGN_TTL_S, S3Settings

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["S3Storage"]

_SHA_META = "sha256"  # user metadata (x-amz-meta-sha256) that makes a repeated write recognisable
_EXTENSIONS_KEPT = 4096
_PARALLEL_READS = 16


class S3Storage:
    """Images in an S3 bucket (AWS or any S3-compatible server)."""

    name = "s3"

    def __init__(self, config: S3Settings) -> None:
        self.config = config
        self.keys = KeyLayout(config.prefix)
        self.where = Where(config.bucket, config.endpoint_url, config.region)
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._extensions: OrderedDict[str, str] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        return cls(settings.section("storage.s3", S3Settings))

    @property
    def location(self) -> str:
        """Where images are stored (``imagegate config`` shows it)."""
        return f"s3://{self.config.bucket}/{self.config.prefix}".rstrip("/")

    # client ------------------------------------------------------------------------------------

    async def client(self) -> Any:
        """The aiobotocore S3 client, created on first use."""
        async with self._lock:
            if self._client is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                config = AioConfig(
                    signature_version="s3v4",
                    retries={"mode": self.config.retry_mode, "total_max_attempts": self.config.max_attempts},
                    s3={"addressing_style": self.config.resolved_addressing_style()},
                    connect_timeout=self.config.connect_timeout_s,
                    read_timeout=self.config.read_timeout_s,
                )
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(get_session().create_client(
                    "s3", region_name=self.config.region, endpoint_url=self.config.endpoint_url, config=config))
                self._stack = stack
            return self._client

    async def _call(self, action: str, image_id: str | None = None, **params: Any) -> Any:
        """One S3 operation (botocore name, e.g. ``PutObject``) with errors mapped."""
        from botocore import xform_name

        try:
            client = await self.client()
            return await getattr(client, xform_name(action))(Bucket=self.config.bucket, **params)
        except Exception as exc:
            raise map_error(exc, self.where, action, image_id) from None

    def run_in_background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` until this backend closes (used for the periodic spool drain)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    # the Storage protocol ----------------------------------------------------------------------

    async def check_writable(self) -> None:
        await self._call("HeadBucket")

    async def save(self, image_id: str, data: bytes | bytearray | memoryview, metadata: dict[str, Any]) -> Saved:
        """The image first, then its metadata, so a visible ``.json`` always has its image."""
        extension = metadata["extension"]
        image_key = self.keys.image_key(image_id, extension)
        digest = await self._put_new(image_key, bytes(data), metadata["mime_type"], image_id)
        meta_body = orjson.dumps(metadata, option=orjson.OPT_INDENT_2)
        await self._put_new(self.keys.meta_key(image_id), meta_body, "application/json", image_id)
        self._remember(image_id, extension)
        return Saved(sha256=digest)

    async def _put_new(self, key: str, body: bytes, content_type: str, image_id: str) -> str:
        """Create ``key`` and return the sha256 of ``body``; an existing object is an error unless
        it holds these very bytes.

        A retried write whose first attempt did land finds its own bytes and succeeds, so saving
        (and draining the spool) can be repeated safely.
        """
        digest = hashlib.sha256(body).hexdigest()
        params: dict[str, Any] = {"Key": key, "Body": body, "ContentType": content_type,
                                  "Metadata": {_SHA_META: digest}}
        if self.config.conditional_writes:
            try:
                client = await self.client()
                await client.put_object(Bucket=self.config.bucket, IfNoneMatch="*", **params)
                return digest
            except Exception as exc:
                if error_code(exc) != "PreconditionFailed":
                    raise map_error(exc, self.where, "PutObject", image_id) from None
        elif await self._existing_digest(key) is None:
            await self._call("PutObject", **params)
            return digest
        if await self._existing_digest(key) != digest:
            msg = f"image {image_id} exists already in bucket {self.config.bucket!r}; images are never overwritten"
            raise StorageError(msg, retryable=False)
        return digest

    async def _existing_digest(self, key: str) -> str | None:
        """The sha256 recorded on an existing object ("" when it has none), None when absent."""
        try:
            head = await self._call("HeadObject", image_id=key, Key=key)
        except NotFound:
            return None
        return str(head.get("Metadata", {}).get(_SHA_META, ""))

    async def metadata(self, image_id: str) -> dict[str, Any]:
        key = self.keys.meta_key(image_id)
        found = await self._call("GetObject", image_id, Key=key)
        async with found["Body"] as stream:
            raw = await stream.read()
        try:
            metadata = dict(orjson.loads(raw))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            msg = f"the metadata of image {image_id} in bucket {self.config.bucket!r} is not a JSON object"
            raise StorageError(msg, retryable=False) from None
        self._remember(image_id, str(metadata.get("extension", "")))
        return metadata

    async def read(self, image_id: str) -> bytes:
        key = self.keys.image_key(image_id, await self._extension(image_id))
        try:
            found = await self._call("GetObject", image_id, Key=key)
        except NotFound:
            msg = f"the file of image {image_id} is missing from bucket {self.config.bucket!r}"
            raise NotFound(msg, param="id") from None
        async with found["Body"] as stream:
            return bytes(await stream.read())

    async def url(self, image_id: str, ttl_s: int) -> str:
        """A presigned GET URL; ``STORAGE__S3__URL_TTL_S`` overrides the gateway's lifetime."""
        key = self.keys.image_key(image_id, await self._extension(image_id))
        ttl = min(self.config.url_ttl_s or ttl_s, MAX_PRESIGN_TTL_S)
        try:
            client = await self.client()
            return str(await client.generate_presigned_url(
                "get_object", Params={"Bucket": self.config.bucket, "Key": key}, ExpiresIn=ttl))
        except Exception as exc:
            raise map_error(exc, self.where, "presign GetObject", image_id) from None

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> str | None:
        return None

    async def delete(self, image_id: str) -> None:
        """The metadata first, then the image (a visible ``.json`` always has its image).

        Of concurrent deletes of one id exactly one succeeds and the others are ``NotFound``: the
        metadata object is deleted only if it is still the one this call found (``If-Match`` on its
        ETag: S3's conditional delete, which needs ``s3:GetObject`` besides ``s3:DeleteObject``), so
        only one caller's delete of it can succeed. With
        ``conditional_writes`` off (a store without conditional requests) deletes are unconditional
        and two at once may both succeed.
        """
        meta_key = self.keys.meta_key(image_id)
        etag = (await self._call("HeadObject", image_id, Key=meta_key))["ETag"]
        key = self.keys.image_key(image_id, await self._extension(image_id))
        if not self.config.conditional_writes:
            await self._call("DeleteObject", image_id, Key=meta_key)
        else:
            try:
                client = await self.client()
                await client.delete_object(Bucket=self.config.bucket, Key=meta_key, IfMatch=etag)
            except Exception as exc:
                # 412: it changed; 409: another delete of it was under way (AWS's conditional deletes)
                if error_code(exc) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    raise map_error(exc, self.where, "DeleteObject", image_id) from None
                msg = f"no image with id {image_id} (another request deleted it)"
                raise NotFound(msg, param="id") from None
        await self._call("DeleteObject", image_id, Key=key)
        self._extensions.pop(image_id, None)

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        """Newest first: days newest first, and within a day by upload time, newest first.

        ``before`` is the last id of the previous page; when that image is gone, the page starts
        with the day before it.
        """
        if before is not None and not is_image_id(before):
            msg = f"before={before[:80]!r} is not an image id"
            raise InvalidRequest(msg, param="before")
        ids: list[str] = []
        for day in await self._days():
            if len(ids) >= limit:
                break
            if before is not None and day > self.keys.folder(before):
                continue
            day_ids = await self._ids_of_day(day)
            if before is not None and day == self.keys.folder(before):
                day_ids = day_ids[day_ids.index(before) + 1:] if before in day_ids else []
            ids.extend(day_ids[: limit - len(ids)])
        return await self._metadata_of(ids)

    async def inventory(self) -> list[StoredEntry]:
        """Every image whose metadata object exists, from ListObjectsV2 alone: the sizes of its
        objects added up, stored when its metadata object was last modified."""
        sizes: dict[str, int] = {}
        stored: dict[str, datetime] = {}
        async for page in self._pages(self.keys.root):
            for entry in page.get("Contents", []):
                found = self.keys.id_of_key(entry["Key"])
                if found is None:
                    continue
                image_id, extension = found
                sizes[image_id] = sizes.get(image_id, 0) + int(entry.get("Size", 0))
                if extension == "json":
                    stored[image_id] = entry["LastModified"]
        return [StoredEntry(image_id, sizes[image_id], when) for image_id, when in stored.items()]

    # listing helpers ---------------------------------------------------------------------------

    async def _days(self) -> list[str]:
        """The ``<prefix>/YYYY/MM/DD/`` folders that hold objects, newest first."""
        days = []
        for year in await self._folders(self.keys.root, 4):
            for month in await self._folders(year, 2):
                days.extend(await self._folders(month, 2))
        return sorted(days, reverse=True)

    async def _folders(self, prefix: str, width: int) -> list[str]:
        """Sub-folders of ``prefix`` named by ``width`` digits."""
        found = []
        async for page in self._pages(prefix, delimiter="/"):
            for entry in page.get("CommonPrefixes", []):
                name = entry["Prefix"][len(prefix):].rstrip("/")
                if len(name) == width and name.isdigit():
                    found.append(entry["Prefix"])
        return found

    async def _ids_of_day(self, day: str) -> list[str]:
        """Ids stored under one day folder, newest upload first."""
        entries: list[tuple[datetime, str]] = []
        async for page in self._pages(day):
            for entry in page.get("Contents", []):
                image_id = self.keys.id_of_meta_key(entry["Key"])
                if image_id is not None:
                    entries.append((entry["LastModified"], image_id))
        entries.sort(reverse=True)
        return [image_id for _, image_id in entries]

    async def _pages(self, prefix: str, delimiter: str | None = None) -> Any:
        extra = {"Delimiter": delimiter} if delimiter else {}
        try:
            client = await self.client()
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.config.bucket, Prefix=prefix, **extra):
                yield page
        except Exception as exc:
            raise map_error(exc, self.where, "ListObjectsV2") from None

    async def _metadata_of(self, ids: list[str]) -> list[dict[str, Any]]:
        """Metadata of each id, in order, skipping images deleted meanwhile."""
        slots = asyncio.Semaphore(_PARALLEL_READS)

        async def one(image_id: str) -> dict[str, Any] | None:
            async with slots:
                try:
                    return await self.metadata(image_id)
                except NotFound:
                    return None

        found = await asyncio.gather(*(one(image_id) for image_id in ids))
        return [metadata for metadata in found if metadata is not None]

    # extensions --------------------------------------------------------------------------------

    def _remember(self, image_id: str, extension: str) -> None:
        self._extensions[image_id] = extension
        self._extensions.move_to_end(image_id)
        while len(self._extensions) > _EXTENSIONS_KEPT:
            self._extensions.popitem(last=False)

    async def _extension(self, image_id: str) -> str:
        """The image's file extension (from its metadata; remembered per id)."""
        self.keys.folder(image_id)  # NotFound for anything but a valid id
        known = self._extensions.get(image_id)
        if known is None:
            known = str((await self.metadata(image_id))["extension"])
        return known
