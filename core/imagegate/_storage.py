"""What a storage backend implements.

The gateway chooses every image id (random, unguessable, date-stamped; see :mod:`imagegate.ids`)
and the metadata; a backend only keeps bytes and metadata under that id, atomically, and never
overwrites. Every front-end reads images back through the same four calls, so they behave alike
with any backend. Retention (:mod:`imagegate.retention`) lists what is stored with
:meth:`Storage.inventory` and deletes through :meth:`Storage.delete`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = ["Saved", "Storage", "StoredEntry"]


@dataclass(frozen=True, slots=True)
class Saved:
    """What :meth:`Storage.save` wrote: the image's local path when there is one, and its sha256
    when the backend hashed the bytes while writing."""

    path: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One stored image as a listing sees it (no image or metadata read): its id, the bytes it
    takes in the store (image and metadata together) and when it was stored (aware, UTC)."""

    image_id: str
    bytes: int
    stored_at: datetime


@runtime_checkable
class Storage(Protocol):
    """A storage backend, created by the factory registered with ``register.add_storage``.

    Optional: a class attribute ``computes_sha256 = True`` promises that :meth:`save`, given
    ``metadata["sha256"]`` None, hashes the bytes while it writes, stores that digest with the
    metadata and returns it in :class:`Saved` (saving the gateway a thread hop to hash). A backend
    never changes the caller's ``metadata`` dict. A ``location`` string
    (a folder, ``s3://bucket/prefix``) tells ``imagegate config`` where images go.
    """

    name: str

    async def check_writable(self) -> None:
        """Raise :class:`~imagegate._errors.StorageError` when images cannot be written."""

    async def save(self, image_id: str, data: bytes | bytearray | memoryview, metadata: dict[str, Any]) -> Saved:
        """Store the image and its metadata atomically; return where and with which digest."""

    async def read(self, image_id: str) -> bytes:
        """The image bytes; :class:`~imagegate._errors.NotFound` when there is no such image."""

    async def metadata(self, image_id: str) -> dict[str, Any]:
        """The metadata stored with the image; ``NotFound`` when there is no such image."""

    async def url(self, image_id: str, ttl_s: int) -> str:
        """A fresh URL for the image, valid for about ``ttl_s`` seconds where URLs expire."""

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> str | None:
        """The image's path on this machine, or None for remote backends."""

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        """Metadata of stored images, newest first, older than image id ``before`` if given."""

    async def inventory(self) -> list[StoredEntry]:
        """Every stored image with its size and storage time, in any order, from listings only."""

    async def delete(self, image_id: str) -> None:
        """Delete the image and its metadata; ``NotFound`` when there is no such image."""

    async def aclose(self) -> None:
        """Close clients and connections."""

