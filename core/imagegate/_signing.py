"""HMAC-signed, expiring URLs for images served by the gateway itself (``/files/<id>``).

The key comes from ``GATEWAY__URL_SIGNING_KEY``; when unset, one is generated once and kept in the
storage root (mode 0600), so every process on the machine signs and verifies alike.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

__all__ = ["UrlSigner", "signer_for"]

KEY_FILE = ".url-signing-key"


def load_or_create_key(root: Path) -> bytes:
    """The signing key kept under ``root``, created atomically on first use."""
    path = root / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    root.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    tmp = root / f".url-signing-key.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # another process may have won the race: use its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes().strip()


class UrlSigner:
    """Signs ``/files/<id>`` for a lifetime and verifies signatures in constant time."""

    def __init__(self, key: bytes, base_url: str) -> None:
        self._key = key
        self.base_url = base_url.rstrip("/")

    def signature(self, image_id: str, expires: int) -> str:
        message = f"{image_id}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def url(self, image_id: str, ttl_s: int, now: float | None = None) -> str:
        expires = int((now or time.time()) + ttl_s)
        return f"{self.base_url}/files/{quote(image_id)}?exp={expires}&sig={self.signature(image_id, expires)}"

    def verify(self, image_id: str, expires: str, sig: str, now: float | None = None) -> bool:
        """True for an unexpired URL whose signature matches."""
        try:
            expiry = int(expires)
        except ValueError:
            return False
        if expiry < (now or time.time()):
            return False
        return hmac.compare_digest(self.signature(image_id, expiry), sig)


def signer_for(public_url: str | None, key: bytes | None, key_root: Path) -> UrlSigner | None:
    """The signer of ``public_url``'s file links (None without a public URL): with ``key`` when one
    is configured, else with the key kept under ``key_root`` (created on first use)."""
    if public_url is None:
        return None
    return UrlSigner(key or load_or_create_key(key_root), public_url)
