"""The local storage backend: the core's atomic file layout plus URLs."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from imagegate.files import FileStore
from imagegate import Settings, default_data_dir
from imagegate.files import UrlSigner, signer_for
from imagegate import Saved, StoredEntry

__all__ = ["LocalSettings", "LocalStorage"]


class LocalSettings(BaseModel):
    """``STORAGE__LOCAL__*``."""

    model_config = ConfigDict(extra="forbid")

    root: Path | None = None

    def resolved_root(self) -> Path:
        return (self.root or default_data_dir() / "images").expanduser()


class LocalStorage:
    """Images on this machine's disk.

    ``computes_sha256``: :meth:`save` hashes the bytes when ``metadata["sha256"]`` is missing, in
    the same thread as the write, and returns the digest, so the gateway need not hash on its own.
    """

    name = "local"
    computes_sha256 = True

    def __init__(self, root: Path, *, public_url: str | None = None, signing_key: bytes | None = None) -> None:
        self.files = FileStore(root)
        self._public_url = public_url
        self._signing_key = signing_key
        self._signer: UrlSigner | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalStorage:
        local = settings.section("storage.local", LocalSettings)
        return cls(local.resolved_root(), public_url=settings.gateway.public_url,
                   signing_key=settings.gateway.signing_key())

    @property
    def root(self) -> Path:
        return self.files.root

    @property
    def location(self) -> str:
        """Where images are stored (``imagegate config`` shows it)."""
        return str(self.files.root)

    def signer(self) -> UrlSigner | None:
        """The URL signer when a public URL is configured (the key is created on first use)."""
        if self._signer is None:
            self._signer = signer_for(self._public_url, self._signing_key, self.files.root)
        return self._signer

    async def check_writable(self) -> None:
        await self.files.check_writable()

    async def save(self, image_id: str, data: bytes | bytearray | memoryview, metadata: dict[str, Any]) -> Saved:
        def write() -> Saved:
            digest = metadata.get("sha256") or hashlib.sha256(data).hexdigest()
            path = self.files.save_sync(image_id, metadata["extension"], data, {**metadata, "sha256": digest})
            return Saved(str(path), digest)

        return await asyncio.to_thread(write)

    async def read(self, image_id: str) -> bytes:
        return await self.files.read(image_id)

    async def metadata(self, image_id: str) -> dict[str, Any]:
        return await self.files.metadata(image_id)

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> str:
        return str(self.files.image_path(image_id, metadata["extension"]))

    async def url(self, image_id: str, ttl_s: int) -> str:
        signer = self.signer()
        if signer is not None:
            return signer.url(image_id, ttl_s)
        metadata = await self.files.metadata(image_id)
        return self.files.image_path(image_id, metadata["extension"]).as_uri()

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        return await self.files.list(limit, before)

    async def inventory(self) -> list[StoredEntry]:
        return await self.files.inventory()

    async def delete(self, image_id: str) -> None:
        await self.files.delete(image_id)

    async def aclose(self) -> None:
        return None
