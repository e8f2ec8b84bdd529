"""Reading what the gateway stored: from the storage backend, or from the spool while a paid-for
image waits there because the backend failed; and moving spooled images into the backend.

:class:`StoredImages` is what front-ends use, through :class:`~imagegate._gateway.Gateway`, to
get, link, list, delete and transform images (the gateway holds one and delegates to it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import NotFound, StorageError
from ._models import ImageOut
from ._signing import UrlSigner, signer_for

if TYPE_CHECKING:
    from ._callers import Caller
    from ._filestore import FileStore
    from ._settings import GatewaySettings
    from ._storage import Storage

__all__ = ["StoredImages"]

log = logging.getLogger("imagegate.gateway")

T = TypeVar("T")


class StoredImages:
    """Stored images by id, whichever of the backend and the spool holds them."""

    def __init__(self, storage: Storage, spool: FileStore, settings: GatewaySettings) -> None:
        self.storage = storage
        self.spool = spool
        self.settings = settings
        self._spool_signer: UrlSigner | None = None

    async def _from_storage_or_spool(self, image_id: str, stored: Callable[[], Awaitable[T]],
                                     spooled: Callable[[], Awaitable[T]]) -> T:
        """Read from the backend; an image the backend lacks, or cannot reach, may be spooled."""
        try:
            return await stored()
        except (NotFound, StorageError) as exc:
            try:
                return await spooled()
            except NotFound:
                raise exc from None

    async def metadata(self, image_id: str, caller: Caller | None = None) -> dict[str, Any]:
        """The image's metadata; ``not_found`` when ``caller`` is given and may not see it (another
        key's image: see :meth:`~imagegate._callers.Caller.sees`)."""
        metadata = await self._from_storage_or_spool(
            image_id, lambda: self.storage.metadata(image_id), lambda: self.spool.metadata(image_id))
        if caller is not None and not caller.sees(metadata):
            raise NotFound(f"no image {image_id!r}", param="id")
        return metadata

    async def read(self, image_id: str) -> bytes:
        return await self._from_storage_or_spool(
            image_id, lambda: self.storage.read(image_id), lambda: self.spool.read(image_id))

    async def url(self, image_id: str, ttl_s: int | None = None) -> str:
        ttl = ttl_s or self.settings.url_ttl_s

        async def spooled() -> str:
            metadata = await self.spool.metadata(image_id)
            signer = self.file_signer()
            if signer is not None:
                return signer.url(image_id, ttl)
            return self.spool.image_path(image_id, metadata["extension"]).as_uri()

        async def stored() -> str:
            if await _holds(self.spool, image_id):
                return await spooled()
            return await self.storage.url(image_id, ttl)

        return await self._from_storage_or_spool(image_id, stored, spooled)

    def file_signer(self) -> UrlSigner | None:
        """Signs the ``/files/<id>`` URLs the HTTP front-end serves, when ``GATEWAY__PUBLIC_URL`` is
        set: local storage's own signer, else one for spooled images (its key kept in the spool)."""
        signer_of = getattr(self.storage, "signer", None)
        if callable(signer_of):
            return signer_of()  # type: ignore[no-any-return]
        if self._spool_signer is None:
            self._spool_signer = signer_for(self.settings.public_url, self.settings.signing_key(),
                                            self.spool.root)
        return self._spool_signer

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> str | None:
        path = self.storage.local_path(image_id, metadata)
        if path is None:
            spooled = self.spool.image_path(image_id, metadata["extension"])
            return str(spooled) if spooled.exists() else None
        return path

    async def describe(self, image_id: str) -> ImageOut:
        """A stored image as front-ends present it, with a fresh URL."""
        metadata = await self.metadata(image_id)
        return ImageOut(
            id=image_id, mime_type=metadata["mime_type"], bytes=metadata["bytes"], sha256=metadata["sha256"],
            width=metadata.get("width"), height=metadata.get("height"),
            path=self.local_path(image_id, metadata), url=await self.url(image_id),
            revised_prompt=metadata.get("revised_prompt"), parent_ids=list(metadata.get("parent_ids") or []))

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        return await self.storage.list(limit=limit, before=before)

    async def delete(self, image_id: str) -> None:
        try:
            await self.storage.delete(image_id)
        except NotFound:
            await self.spool.delete(image_id)

    async def transform(self, image_id: str, op: str, params: dict[str, Any], *, frontend: str = "api",
                        caller: Caller | None = None) -> ImageOut:
        """A new stored image (``caller``'s) made from a stored one, which is only read (see
        :mod:`~imagegate._transforms`)."""
        from ._transforms import parse_transform, transform_image

        return await transform_image(self, image_id, parse_transform(op, params), frontend=frontend, caller=caller)

    async def thumbnail(self, image_id: str, size: int, *, frontend: str = "api",
                        caller: Caller | None = None) -> ImageOut:
        """The image's thumbnail (longest side ``size``): made and stored once, then reused."""
        from ._transforms import thumbnail

        return await thumbnail(self, image_id, size, frontend=frontend, caller=caller)

    async def drain_spool(self) -> list[str]:
        """Move spooled images into the storage backend; return the ids moved.

        Stops at the first failure (the backend is still down); what is left stays spooled.
        """
        moved: list[str] = []
        for image_id in await asyncio.to_thread(self.spool.ids_sync):
            try:
                if not await _holds(self.storage, image_id):
                    metadata = await self.spool.metadata(image_id)
                    await self.storage.save(image_id, await self.spool.read(image_id), metadata)
            except StorageError as exc:
                log.warning("spool drain stopped: %s", exc.message)
                break
            await self.spool.delete(image_id)
            moved.append(image_id)
        return moved


async def _holds(store: Storage | FileStore, image_id: str) -> bool:
    """Whether a backend or the spool has the image (its metadata is there)."""
    try:
        await store.metadata(image_id)
    except NotFound:
        return False
    return True
