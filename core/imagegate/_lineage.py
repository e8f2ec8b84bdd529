"""Where a stored image came from and what was made from it, read from its ``parent_ids``.

Parents are followed up through each image's metadata; children are found by scanning the
stored images' metadata through the gateway's list (pages of :data:`PAGE`, at most
:data:`MAX_SCANNED` images), so any storage backend answers without an index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import NotFound

if TYPE_CHECKING:
    from ._gateway import Gateway

__all__ = ["MAX_SCANNED", "PAGE", "lineage"]

PAGE = 100
MAX_SCANNED = 100_000
_MAX_NODES = 1000
_SUMMARY = ("id", "operation", "model", "created", "parent_ids", "request_id")


def _summary(metadata: dict[str, Any], image_id: str) -> dict[str, Any]:
    out = {key: metadata.get(key) for key in _SUMMARY}
    out["id"] = image_id
    out["parent_ids"] = list(metadata.get("parent_ids") or [])
    return out


async def _ancestors(gateway: Gateway, parent_ids: list[str]) -> list[dict[str, Any]]:
    """Every ancestor, nearest first (breadth first); a deleted one is listed with ``missing``."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue = list(parent_ids)
    while queue and len(found) < _MAX_NODES:
        image_id = queue.pop(0)
        if image_id in seen:
            continue
        seen.add(image_id)
        try:
            entry = _summary(await gateway.metadata(image_id), image_id)
        except NotFound:
            found.append({"id": image_id, "missing": True, "parent_ids": []})
            continue
        found.append(entry)
        queue.extend(entry["parent_ids"])
    return found


async def _children_by_parent(gateway: Gateway) -> dict[str, list[dict[str, Any]]]:
    """Each stored image's children, from one scan of the listing (newest first)."""
    children: dict[str, list[dict[str, Any]]] = {}
    before: str | None = None
    scanned = 0
    while scanned < MAX_SCANNED:
        page = await gateway.list(limit=PAGE, before=before)
        for item in page:
            for parent in item.get("parent_ids") or []:
                children.setdefault(parent, []).append(_summary(item, item["id"]))
        scanned += len(page)
        if len(page) < PAGE:
            break
        before = page[-1]["id"]
    return children


async def lineage(gateway: Gateway, image_id: str) -> dict[str, Any]:
    """The image, its ancestors (nearest first) and its descendants (children first, oldest first)."""
    me = _summary(await gateway.metadata(image_id), image_id)
    by_parent = await _children_by_parent(gateway)
    descendants: list[dict[str, Any]] = []
    seen = {image_id}
    queue = [image_id]
    while queue and len(descendants) < _MAX_NODES:
        for child in reversed(by_parent.get(queue.pop(0), [])):
            if child["id"] not in seen:
                seen.add(child["id"])
                descendants.append(child)
                queue.append(child["id"])
    return {"image": me, "ancestors": await _ancestors(gateway, me["parent_ids"]), "descendants": descendants}
