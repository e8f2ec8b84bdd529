"""Images on a local disk: ``ROOT/YYYY/MM/DD/<id>.<ext>`` with ``<id>.json`` beside it.

Used by the local storage plugin and by the spool that keeps paid-for images when a backend
fails. Writes are atomic (temporary file in the same folder, fsync, link into place, fsync of the
folder), the image is linked before its metadata so a visible ``.json`` always has its image (both
temporary files are synced first; one folder fsync then makes both names durable, and a journaling
file system never keeps the second link without the first), nothing is ever overwritten, and paths
are built only from ids that match the strict id pattern. All disk work runs in a thread so the
event loop never blocks on a large write.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ._errors import NotFound, StorageError
from ._ids import is_image_id, shard_of
from ._storage import StoredEntry

__all__ = ["FileStore", "atomic_write"]


def atomic_write(path: Path, data: bytes | bytearray | memoryview, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _synced_temp(path, data)
    _put_in_place(tmp, path, overwrite=overwrite)
    _fsync_dir(path.parent)


def _synced_temp(path: Path, data: bytes | bytearray | memoryview) -> str:
    """A temporary file beside ``path`` holding ``data``, on disk (fsync); removed on failure."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _put_in_place(tmp: str, path: Path, *, overwrite: bool = False) -> None:
    """Give the temporary file its name (never over an existing file unless ``overwrite``)."""
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path exists: never overwrite
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """The sharded on-disk layout with atomic writes; synchronous core plus async wrappers."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def folder(self, image_id: str) -> Path:
        if not is_image_id(image_id):
            msg = f"no image with id {image_id[:80]!r}"
            raise NotFound(msg, param="id")
        year, month, day = shard_of(image_id)
        return self.root / year / month / day

    def meta_path(self, image_id: str) -> Path:
        return self.folder(image_id) / f"{image_id}.json"

    def image_path(self, image_id: str, extension: str) -> Path:
        return self.folder(image_id) / f"{image_id}.{extension}"

    # synchronous parts (run in threads) -------------------------------------------------------

    def check_writable_sync(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{os.getpid()}"
            atomic_write(probe, b"ok", overwrite=True)
            probe.unlink()
        except OSError as exc:
            msg = f"storage root {self.root} is not writable: {exc.strerror or exc}"
            raise StorageError(msg, retryable=False) from None

    def save_sync(self, image_id: str, extension: str, data: bytes | bytearray | memoryview,
                  metadata: dict[str, Any]) -> Path:
        """Write the image, then its metadata, with the sha256 hashed here when it is missing
        (into a copy: the caller's ``metadata`` is left as it was)."""
        if not metadata.get("sha256"):
            metadata = {**metadata, "sha256": hashlib.sha256(data).hexdigest()}
        image_path = self.image_path(image_id, extension)
        meta_path = self.meta_path(image_id)
        temps: list[str] = []
        image_alone = False  # the image is in place and its metadata not yet
        try:
            image_path.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_synced_temp(image_path, data))
            temps.append(_synced_temp(meta_path, orjson.dumps(metadata, option=orjson.OPT_INDENT_2)))
            _put_in_place(temps[0], image_path)
            image_alone = True
            _put_in_place(temps[1], meta_path)
            image_alone = False
            _fsync_dir(image_path.parent)
        except FileExistsError:
            msg = f"image {image_id} exists already; images are never overwritten"
            raise StorageError(msg, retryable=False) from None
        except OSError as exc:
            if image_alone:
                with contextlib.suppress(OSError):
                    image_path.unlink()
            msg = f"could not write {image_path.name} under {self.root}: {exc.strerror or exc}"
            raise StorageError(msg) from None
        finally:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return image_path

    def metadata_sync(self, image_id: str) -> dict[str, Any]:
        try:
            return dict(orjson.loads(self.meta_path(image_id).read_bytes()))
        except FileNotFoundError:
            msg = f"no image with id {image_id}"
            raise NotFound(msg, param="id") from None

    def read_sync(self, image_id: str) -> bytes:
        metadata = self.metadata_sync(image_id)
        try:
            return self.image_path(image_id, metadata["extension"]).read_bytes()
        except FileNotFoundError:
            msg = f"the file of image {image_id} is missing"
            raise NotFound(msg, param="id") from None

    def delete_sync(self, image_id: str) -> None:
        """Delete the metadata, then the image. The metadata is first renamed to a name only this
        call knows: a rename is atomic, so of concurrent deletes of one id exactly one claims it
        and succeeds, and the others are ``NotFound``."""
        meta_path = self.meta_path(image_id)
        claim = meta_path.with_name(f".deleting-{secrets.token_hex(8)}-{meta_path.name}")
        try:
            os.rename(meta_path, claim)
        except FileNotFoundError:
            msg = f"no image with id {image_id}"
            raise NotFound(msg, param="id") from None
        try:
            metadata = orjson.loads(claim.read_bytes())
            self.image_path(image_id, metadata["extension"]).unlink(missing_ok=True)
        finally:
            claim.unlink(missing_ok=True)

    def ids_sync(self) -> list[str]:
        """Every stored id, newest day first (ids of one day in reverse name order)."""
        if not self.root.is_dir():
            return []
        found = []
        for meta in self.root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/img_*.json"):
            image_id = meta.stem
            if is_image_id(image_id):
                found.append((meta.stat().st_mtime_ns, image_id))
        found.sort(reverse=True)
        return [image_id for _, image_id in found]

    def inventory_sync(self) -> list[StoredEntry]:
        """Every stored image (one whose metadata is in place) with the bytes of its files and the
        time its metadata was written; files vanishing meanwhile are skipped."""
        if not self.root.is_dir():
            return []
        sizes: dict[str, int] = {}
        stored: dict[str, float] = {}
        for path in self.root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/img_*"):
            image_id, _, extension = path.name.partition(".")
            if not is_image_id(image_id) or path.parent != self.folder(image_id):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            sizes[image_id] = sizes.get(image_id, 0) + stat.st_size
            if extension == "json":
                stored[image_id] = stat.st_mtime
        return [StoredEntry(image_id, sizes[image_id], datetime.fromtimestamp(mtime, UTC))
                for image_id, mtime in stored.items()]

    def list_sync(self, limit: int, before: str | None) -> list[dict[str, Any]]:
        ids = self.ids_sync()
        if before is not None and before in ids:
            ids = ids[ids.index(before) + 1 :]
        out = []
        for image_id in ids[:limit]:
            with contextlib.suppress(NotFound):
                out.append(self.metadata_sync(image_id))
        return out

    # async wrappers ----------------------------------------------------------------------------

    async def check_writable(self) -> None:
        await asyncio.to_thread(self.check_writable_sync)

    async def save(self, image_id: str, extension: str, data: bytes | bytearray | memoryview,
                   metadata: dict[str, Any]) -> Path:
        return await asyncio.to_thread(self.save_sync, image_id, extension, data, metadata)

    async def metadata(self, image_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.metadata_sync, image_id)

    async def read(self, image_id: str) -> bytes:
        return await asyncio.to_thread(self.read_sync, image_id)

    async def delete(self, image_id: str) -> None:
        await asyncio.to_thread(self.delete_sync, image_id)

    async def list(self, limit: int = 50, before: str | None = None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.list_sync, limit, before)

    async def inventory(self) -> list[StoredEntry]:
        return await asyncio.to_thread(self.inventory_sync)
