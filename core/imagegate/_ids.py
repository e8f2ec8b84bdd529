"""Image and request ids.

An image id is random and unguessable (128 bits), never derived from the content, and carries the
UTC day it was made so storage can shard by date without an index: ``img_20261122_<26 base32>``.
Because ids are checked against one strict pattern before any path or key is built from them,
no id can steer a path outside the storage root.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime

__all__ = ["is_image_id", "new_image_id", "new_request_id", "shard_of"]

_ID_RE = re.compile(r"^img_(\d{4})(\d{2})(\d{2})_[a-z2-7]{26}$")


def _token(nbytes: int) -> str:
    return base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii").rstrip("=").lower()


def new_image_id(now: datetime | None = None) -> str:
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"img_{day}_{_token(16)}"


def new_request_id() -> str:
    return f"req_{_token(10)}"


def is_image_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def shard_of(image_id: str) -> tuple[str, str, str]:
    """The ``(year, month, day)`` folders of a valid id; ValueError for anything else."""
    match = _ID_RE.match(image_id)
    if not match:
        msg = f"not an image id: {image_id[:80]!r}"
        raise ValueError(msg)
    return match[1], match[2], match[3]
