"""Storing what a paid call produced: verify the bytes, hash them, write image and metadata.

Each image is checked to be what the provider declared (SVG comes back sanitized), then saved by
the storage backend inside a ``storage_write`` step. When the backend fails, the image is spooled
to local disk instead, so paid images are never lost, and the request fails ``storage_error``
naming the ids that stay reachable.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._errors import StorageError, UpstreamError
from ._events import Event, ImageStored
from ._formats import FORMAT_MIME
from ._ids import new_image_id
from ._imagetype import ImageInfo, NotAnImage, inspect_image
from ._middleware import RunStep, Step
from ._models import Cost, ImageOut, ImageResult
from ._pricing import result_cost, sum_usage
from ._storage import Saved

if TYPE_CHECKING:
    from ._filestore import FileStore
    from ._jobs import Job
    from ._provider import ProviderImage, ProviderResult
    from ._redact import Redactor
    from ._storage import Storage

__all__ = ["ImageStorer", "sha256_hex"]

log = logging.getLogger("imagegate.gateway")

_INLINE_HASH_BYTES = 256 * 1024


async def sha256_hex(data: bytes | bytearray | memoryview) -> str:
    """The hex digest; a big image is hashed in a thread (hashlib releases the GIL)."""
    if len(data) <= _INLINE_HASH_BYTES:
        return hashlib.sha256(data).hexdigest()
    return (await asyncio.to_thread(hashlib.sha256, data)).hexdigest()


@dataclass(slots=True)
class _Stored:
    out: ImageOut
    spool_path: str | None = None
    error: StorageError | None = None


class ImageStorer:
    """The pipeline stage that turns provider results into stored images and an :class:`ImageResult`."""

    def __init__(self, storage: Storage, spool: FileStore, *, url_ttl_s: int, redactor: Redactor,
                 run_step: RunStep, emit: Callable[[Event], None]) -> None:
        self.storage = storage
        self.spool = spool
        self._url_ttl_s = url_ttl_s
        self._redactor = redactor
        self._run_step = run_step
        self._emit = emit

    async def store_all(self, job: Job, results: list[ProviderResult]) -> ImageResult:
        """Store every image; raise :class:`StorageError` (with the spooled ids) if any failed."""
        started = asyncio.get_running_loop().time()
        expected = FORMAT_MIME.get(job.spec.output_format(job.valid.params))
        usage = sum_usage(results)
        job.paid = Cost(job.estimated_usd, result_cost(job.spec, results, usage),
                        unofficial=job.spec.pricing.unofficial)
        if not job.delivery.keep_base64:  # let the base64 text go before storing
            for result in results:
                result.images = [replace(i, b64=None) if i.b64 is not None else i for i in result.images]
        stored: list[_Stored] = []
        for result in results:
            for image in result.images:
                stored.append(await self._store_one(job, result, image, self._verify(job, image, expected)))
        job.timings["store_ms"] = round((asyncio.get_running_loop().time() - started) * 1000, 3)
        failed = next((s.error for s in stored if s.error is not None), None)
        if failed is not None:
            spooled = [s.spool_path for s in stored if s.spool_path]
            held = [s.out.id for s in stored if s.error is None or s.spool_path]
            where = spooled[0] if spooled else None
            kept = f"; kept at {where}, reachable by id: {', '.join(held)}" if where else ""
            msg = f"storing the image failed: {failed.message}{kept}"
            raise StorageError(msg, spool_path=where, provider=job.spec.provider, image_ids=held if where else None)
        revised = next((i.revised_prompt for r in results for i in r.images if i.revised_prompt), None)
        notes = job.lifecycle.notes()
        if len(results) > 1:
            notes.append(f"{job.spec.id} makes one image per call; the gateway made {len(results)} calls")
        return ImageResult(
            images=[s.out for s in stored], model=job.spec.id, provider=job.spec.provider,
            request_id=job.request_id, cost=job.paid, revised_prompt=revised, parameters=job.parameters,
            usage=usage, timings=job.timings, notes=notes, **job.lifecycle.result_fields())

    def _verify(self, job: Job, image: ProviderImage, expected_mime: str | None) -> ImageInfo:
        try:
            return inspect_image(image.data, image.mime_type or expected_mime)
        except NotAnImage as exc:
            msg = f"{job.spec.provider} returned unusable image data: {exc}"
            raise UpstreamError(msg, provider=job.spec.provider, retryable=False) from None

    async def store_derived(self, job: Job, result: ProviderResult, data: bytes, mime_type: str,
                            extra: dict[str, Any]) -> ImageOut:
        """Store an image the gateway made from a paid one (a grid's tile); ``extra`` overrides
        metadata fields (``parent_ids``, ``cost``...). Raise :class:`StorageError` if it failed."""
        from ._provider import ProviderImage

        image = ProviderImage(data=data, mime_type=mime_type)
        stored = await self._store_one(job, result, image, self._verify(job, image, mime_type), extra)
        if stored.error is not None:
            kept = f"; kept at {stored.spool_path}" if stored.spool_path else ""
            raise StorageError(f"storing {stored.out.id} failed: {stored.error.message}{kept}",
                               spool_path=stored.spool_path, provider=job.spec.provider)
        return stored.out

    async def _store_one(self, job: Job, result: ProviderResult, image: ProviderImage, info: ImageInfo,
                         extra: dict[str, Any] | None = None) -> _Stored:
        image_id = new_image_id()
        # a backend that hashes while it writes saves a thread hop; otherwise hash now
        hashes_itself = getattr(self.storage, "computes_sha256", False)
        digest = None if hashes_itself else await sha256_hex(info.data)
        metadata = {**_metadata(job, result, image, info, image_id, digest), **(extra or {})}
        step = Step("storage_write", {"provider": job.spec.provider, "model": job.spec.id,
                                      "backend": self.storage.name, "bytes": len(info.data), "image_id": image_id})
        stored = _Stored(ImageOut(id=image_id, mime_type=info.mime_type, bytes=len(info.data), sha256="",
                                  width=info.width, height=info.height, path=None, url=None,
                                  revised_prompt=image.revised_prompt, data=info.data,
                                  b64=image.b64 if info.data is image.data else None,
                                  parent_ids=list(metadata["parent_ids"])))
        try:
            saved = _as_saved(await self._run_step(step, lambda: self.storage.save(image_id, info.data, metadata)))
            stored.out.path = saved.path
            stored.out.url = await self.storage.url(image_id, self._url_ttl_s)
            digest = digest or saved.sha256
        except Exception as exc:
            stored.error = exc if isinstance(exc, StorageError) else StorageError(f"{type(exc).__name__}: {exc}")
            log.error("storage %s failed for %s: %s; spooling", self.storage.name, image_id,
                      self._redactor.text(stored.error.message))
            digest = digest or await sha256_hex(info.data)
            await self._spool(stored, info, {**metadata, "sha256": digest})
        else:
            self._emit(ImageStored(**job.event_fields(), image_id=image_id, bytes=len(info.data),
                                   mime_type=info.mime_type))
        stored.out.sha256 = digest or await sha256_hex(info.data)
        return stored

    async def _spool(self, stored: _Stored, info: ImageInfo, metadata: dict[str, Any]) -> None:
        try:
            path = await self.spool.save(stored.out.id, info.extension, info.data, metadata)
        except Exception:
            log.critical("image %s could be neither stored nor spooled to %s", stored.out.id, self.spool.root)
            return
        stored.out.path, stored.out.url, stored.spool_path = str(path), path.as_uri(), str(path)


def _as_saved(value: Saved | str | None) -> Saved:
    """What ``Storage.save`` returned; a bare path (or None) from an older backend is accepted."""
    return value if isinstance(value, Saved) else Saved(path=value)


def _metadata(job: Job, result: ProviderResult, image: ProviderImage, info: ImageInfo, image_id: str,
              digest: str | None) -> dict[str, Any]:
    return {
        "id": image_id, "extension": info.extension, "mime_type": info.mime_type, "bytes": len(info.data),
        "sha256": digest, "width": info.width, "height": info.height,
        "created": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "prompt": job.valid.prompt, "revised_prompt": image.revised_prompt, "model": job.spec.id,
        "provider": job.spec.provider, "operation": job.operation, "parameters": job.parameters,
        "seed": image.seed, "timings": dict(job.timings),
        "cost": (job.paid or Cost(job.estimated_usd, unofficial=job.spec.pricing.unofficial)).as_dict(),
        "request_id": job.request_id, "provider_request_id": result.provider_request_id,
        "model_version": result.model_version, "frontend": job.delivery.frontend,
        "parent_ids": list(job.parent_ids),
        **({"grid": job.grid.as_dict()} if job.grid is not None else {}),
        **({"owner": job.delivery.caller.owner} if job.delivery.caller is not None else {}),
    }
