"""What a storage backend implements.

The gateway chooses every image id (random, unguessable, date-stamped; see :mod:`imagegate.ids`)
and the metadata; a backend only keeps bytes and metadata under that id, atomically, and never
overwrites. Every front-end reads images back through the same four calls, so they behave alike
with any backend.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Storage", "StorageFactory"]


@runtime_checkable
class Storage(Protocol):
    """A storage backend, created by the factory registered with ``register.add_storage``.

    Optional: a class attribute ``computes_sha256 = True`` promises that :meth:`save` fills a
    missing ``metadata["sha256"]`` while it writes (saving the gateway a thread hop to hash); a
    ``location`` string (a folder, ``s3://bucket/prefix``) tells ``imagegate config`` where images go.
    """

    name: str

    async def check_writable(self) -> None:
        """Raise :class:`~imagegate.errors.StorageError` when images cannot be written."""

    async def save(self, image_id: str, data: bytes | bytearray | memoryview, metadata: dict[str, Any]) -> str | None:
        """Store the image and its metadata atomically; return a local path when there is one."""

    async def read(self, image_id: str) -> bytes:
        """The image bytes; :class:`~imagegate.errors.NotFound` when there is no such image."""

    async def metadata(self, image_id: str) -> dict[str, Any]:
        """The metadata stored with the image; ``NotFound`` when there is no such image."""

    async def url(self, image_id: str, ttl_s: int) -> str:
        """A fresh URL for the image, valid for about ``ttl_s`` seconds where URLs expire."""

    def local_path(self, image_id: str, metadata: dict[str, Any]) -> str | None:
        """The image's path on this machine, or None for remote backends."""

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        """Metadata of stored images, newest first, older than image id ``before`` if given."""

    async def delete(self, image_id: str) -> None:
        """Delete the image and its metadata; ``NotFound`` when there is no such image."""

    async def aclose(self) -> None:
        """Close clients and connections."""


class StorageFactory(Protocol):
    """Builds a backend from the effective settings (registered by name)."""

    def __call__(self, settings: Any) -> Storage: ...
