"""Object keys: ``<prefix>/YYYY/MM/DD/<id>.<ext>`` with ``<id>.json`` beside it.

Keys are built only from ids that match the gateway's strict id pattern and from extensions the
gateway derived from the image bytes, so no request can steer where an object lands.
"""

from __future__ import annotations

import re

from imagegate import NotFound, StorageError
from imagegate.files import is_image_id, shard_of

__all__ = ["KeyLayout"]

_EXTENSION_RE = re.compile(r"^[a-z0-9]{1,8}$")


class KeyLayout:
    """Where an image and its metadata live in the bucket."""

    def __init__(self, prefix: str) -> None:
        self.root = f"{prefix}/" if prefix else ""

    def folder(self, image_id: str) -> str:
        """``<prefix>/YYYY/MM/DD/`` of a valid id; ``NotFound`` for anything else."""
        if not is_image_id(image_id):
            msg = f"no image with id {image_id[:80]!r}"
            raise NotFound(msg, param="id")
        year, month, day = shard_of(image_id)
        return f"{self.root}{year}/{month}/{day}/"

    def meta_key(self, image_id: str) -> str:
        return f"{self.folder(image_id)}{image_id}.json"

    def image_key(self, image_id: str, extension: str) -> str:
        if not _EXTENSION_RE.match(extension):
            msg = f"image {image_id} has an unusable extension {extension[:20]!r} in its metadata"
            raise StorageError(msg, retryable=False)
        return f"{self.folder(image_id)}{image_id}.{extension}"

    def id_of_meta_key(self, key: str) -> str | None:
        """The image id a listed ``.json`` key belongs to, or None for any other object."""
        found = self.id_of_key(key)
        return found[0] if found is not None and found[1] == "json" else None

    def id_of_key(self, key: str) -> tuple[str, str] | None:
        """The image id and extension of a listed image or metadata key, or None for any other object."""
        folder, _, name = key.rpartition("/")
        image_id, dot, extension = name.partition(".")
        if not dot or not is_image_id(image_id) or f"{folder}/" != self.folder(image_id):
            return None
        return image_id, extension
