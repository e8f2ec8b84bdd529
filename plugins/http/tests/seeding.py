"""Stored images made to order for the listing and gallery tests: any model, creation time and
``parent_ids``, written through the storage backend as the gateway writes them (the local
backend lists by the metadata file's modification time, which is set to the creation time)."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any

from imagegate.testing import image_bytes
from imagegate._ids import new_image_id


async def seed_image(gateway: Any, *, model: str, created: datetime, prompt: str = "a seeded image",
                     parent_ids: list[str] | None = None, seed: int = 0) -> str:
    """Store one 64x64 PNG with this metadata; its id."""
    image_id = new_image_id(created)
    data = await asyncio.to_thread(image_bytes, 64, 64, seed=seed)
    metadata: dict[str, Any] = {
        "id": image_id, "extension": "png", "mime_type": "image/png", "bytes": len(data), "sha256": None,
        "width": 64, "height": 64, "created": created.isoformat(timespec="milliseconds"), "prompt": prompt,
        "revised_prompt": None, "model": model, "provider": model, "operation": "generate",
        "parameters": {"size": "64x64"}, "seed": None, "timings": {},
        "cost": {"estimated_usd": 0.04, "actual_usd": 0.04}, "request_id": "req_seeded",
        "provider_request_id": None, "model_version": None, "frontend": "test",
    }
    if parent_ids is not None:
        metadata["parent_ids"] = parent_ids
    await gateway.storage.save(image_id, data, metadata)
    stamp = int(created.timestamp() * 1_000_000_000)
    await asyncio.to_thread(os.utime, gateway.storage.files.meta_path(image_id), ns=(stamp, stamp))
    return image_id
