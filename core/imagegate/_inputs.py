"""Resolving input images (for edits and variations) in one place, before any provider call.

A reference may be a stored image id, a path under the configured allowed roots (the CLI may read
any path its user names), an https URL on an allowed host that resolves only to public addresses,
or inline base64. Size and type are checked against the model before money is spent.
"""

from __future__ import annotations

import asyncio
import binascii
import os
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._catalog import FORMAT_MIME
from ._errors import ImagegateError, InvalidRequest, NotFound, PermissionDenied
from ._http_client import download
from ._imagetype import ImageTooLarge, NotAnImage, inspect_image
from ._provider import InputImage
from ._public_fetch import is_public_host

if TYPE_CHECKING:
    import aiohttp

    from ._catalog import ModelSpec
    from ._models import ImageInput
    from ._settings import InputSettings

__all__ = ["InputSources", "resolve_input"]


@dataclass(frozen=True, slots=True)
class InputSources:
    """Where input images come from: the input settings, stored images, and the public-only session."""

    settings: InputSettings
    read_stored: Callable[[str], Awaitable[bytes]]
    session: Callable[[], aiohttp.ClientSession]


async def resolve_input(sources: InputSources, ref: ImageInput, spec: ModelSpec, *, param: str,
                        trusted_paths: bool) -> InputImage:
    """Load, size-check and type-check one input image."""
    max_bytes = int(min(spec.max_input_mb, sources.settings.max_mb) * 1024 * 1024)
    data, filename = await _load(sources, ref, param=param, trusted_paths=trusted_paths, max_bytes=max_bytes)
    if len(data) > max_bytes:
        msg = f"{param} is {len(data)} bytes; {spec.id} takes at most {max_bytes} bytes"
        raise InvalidRequest(msg, param=param)
    try:
        info = inspect_image(data)
    except ImageTooLarge as exc:
        msg = f"{param}: {exc}"
        raise InvalidRequest(msg, param=param) from None
    except NotAnImage as exc:
        msg = f"{param} is not an image: {exc}"
        raise InvalidRequest(msg, param=param) from None
    allowed = {FORMAT_MIME[f] for f in spec.input_formats if f in FORMAT_MIME}
    if info.mime_type not in allowed:
        msg = f"{param} is {info.mime_type}; {spec.id} takes {', '.join(spec.input_formats)}"
        raise InvalidRequest(msg, param=param)
    name = filename or f"{param}.{info.extension}"
    return InputImage(bytes(info.data), info.mime_type, name, info.width, info.height)


async def _load(sources: InputSources, ref: ImageInput, *, param: str, trusted_paths: bool,
                max_bytes: int) -> tuple[bytes, str | None]:
    value = ref.value
    if ref.kind == "bytes":
        return bytes(value) if isinstance(value, (bytes, bytearray)) else value.encode(), ref.filename
    text = value.decode() if isinstance(value, bytes) else value
    if ref.kind == "id":
        try:
            return await sources.read_stored(text), ref.filename
        except NotFound:
            msg = f"{param}: no stored image with id {text}"
            raise InvalidRequest(msg, param=param) from None
    if ref.kind == "base64":
        return _decode_base64(text, param), ref.filename
    if ref.kind == "url":
        return await _fetch(sources, text, param, max_bytes), ref.filename
    return await _read_path(sources, text, param, trusted_paths, max_bytes), Path(text).name


def _short(text: str) -> str:
    """A reference as it may appear in a message: never a whole payload."""
    return text if len(text) <= 120 else f"{text[:60]}… ({len(text)} characters)"


def _decode_base64(text: str, param: str) -> bytes:
    import pybase64

    payload = text.split(",", 1)[1] if text.startswith("data:") else text
    try:
        return pybase64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        msg = f"{param} is neither a stored image id, an allowed path or URL, nor valid base64"
        raise InvalidRequest(msg, param=param) from None


async def _read_path(sources: InputSources, text: str, param: str, trusted: bool, max_bytes: int) -> bytes:
    if "\0" in text:
        msg = f"{param}: a path cannot contain a NUL character"
        raise InvalidRequest(msg, param=param)
    path = Path(text).expanduser()
    try:
        resolved = await asyncio.to_thread(path.resolve)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        msg = f"{param}: cannot resolve {_short(text)} ({getattr(exc, 'strerror', None) or exc})"
        raise InvalidRequest(msg, param=param) from None
    if not trusted:
        roots = [Path(root).expanduser().resolve() for root in sources.settings.allowed_roots]
        inside = any(resolved == root or root in resolved.parents for root in roots)
        if not inside:
            where = ", ".join(str(r) for r in roots) or "none configured (INPUT__ALLOWED_ROOTS)"
            msg = f"{param}: {_short(text)} is outside the allowed input folders ({where})"
            raise PermissionDenied(msg, param=param)
    try:
        return await asyncio.to_thread(_read_regular_file, resolved, max_bytes, param)
    except OSError as exc:
        msg = f"{param}: cannot read {_short(text)} ({exc.strerror or type(exc).__name__})"
        raise InvalidRequest(msg, param=param) from None


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _read_regular_file(path: Path, max_bytes: int, param: str) -> bytes:
    """At most ``max_bytes`` of a regular file. Opening never blocks (a FIFO, a device or a socket
    is refused, not waited on; a symlink swapped in after the path was resolved is not followed),
    and a file that grows while read, or whose reported size is wrong (``/proc``), is refused
    after ``max_bytes + 1`` bytes, never read whole."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # no open() of a device at all, when it is seen first
        raise _not_regular(param)
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb", buffering=0) as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(param)
        if info.st_size > max_bytes:
            msg = f"{param} is {info.st_size} bytes; the limit is {max_bytes}"
            raise InvalidRequest(msg, param=param)
        buffer = bytearray()
        while len(buffer) <= max_bytes and (chunk := file.read(max_bytes + 1 - len(buffer))):
            buffer += chunk
    if len(buffer) > max_bytes:
        msg = f"{param} is over the limit of {max_bytes} bytes (more than the {info.st_size} its size said)"
        raise InvalidRequest(msg, param=param)
    return bytes(buffer)


def _not_regular(param: str) -> InvalidRequest:
    msg = f"{param} is not a regular file (a FIFO, device, socket or directory is never read)"
    return InvalidRequest(msg, param=param)


async def _fetch(sources: InputSources, url: str, param: str, max_bytes: int) -> bytes:
    parts = urlsplit(url)
    host = parts.hostname or ""
    allowed = sources.settings.allowed_hosts
    if parts.scheme != "https" or host not in allowed:
        where = ", ".join(allowed) or "none configured (INPUT__ALLOWED_HOSTS)"
        msg = f"{param}: only https URLs on allowed hosts are fetched ({where})"
        raise PermissionDenied(msg, param=param)
    if not await is_public_host(host, param=param):
        msg = f"{param}: {host} resolves to a private or loopback address"
        raise PermissionDenied(msg, param=param)
    try:
        return bytes(await download(sources.session(), url, max_bytes=max_bytes, follow_redirects=False))
    except ImagegateError as exc:
        msg = f"{param}: {exc.message}"
        raise InvalidRequest(msg, param=param) from None
