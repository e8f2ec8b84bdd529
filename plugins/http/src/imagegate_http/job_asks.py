"""What a POST asks of the job that serves it: ``Prefer: respond-async``, an ``Idempotency-Key``,
and whose job it is.

The owner is the caller's (its API key's, hashed, when keys are configured, else the shared
``local`` owner: see :class:`~imagegate.Caller`). A key is scoped to its owner, and a repeat is told
from a different request by a digest of the operation and the body: the JSON object as sent, or
for a multipart upload its text fields and a SHA-256 of each file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imagegate import InvalidRequest
from imagegate.frontend import fingerprint

from .keys import caller_of

if TYPE_CHECKING:
    from aiohttp import web
    from imagegate import ImageInput, Operation

    from .multipart import UploadForm

__all__ = ["JobAsk", "caller_owner", "jobs_owner", "json_digest", "upload_digest"]

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def caller_owner(request: web.Request) -> str:
    """The owner of what this caller makes: the one the bearer check found (see :class:`~imagegate.Caller`)."""
    return caller_of(request).owner


def jobs_owner(request: web.Request) -> str | None:
    """Whose jobs this caller sees: its owner's, every owner's (None) for an admin key."""
    return caller_of(request).jobs_owner


def _wants_async(request: web.Request) -> bool:
    """Whether a ``Prefer`` header (RFC 7240; several may be sent) asks for ``respond-async``."""
    preferences = (item.split(";", 1)[0].strip().lower()
                   for header in request.headers.getall("Prefer", []) for item in header.split(","))
    return "respond-async" in preferences


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _KEY.match(key):
        msg = "Idempotency-Key must be 1 to 255 visible ASCII characters (e.g. a UUID)"
        raise InvalidRequest(msg, param="Idempotency-Key")
    return key


@dataclass(frozen=True, slots=True)
class JobAsk:
    """The job-related headers of one POST, read once."""

    owner: str
    key: str | None
    respond_async: bool

    @classmethod
    def read(cls, request: web.Request) -> JobAsk:
        return cls(caller_owner(request), _idempotency_key(request), _wants_async(request))


def json_digest(operation: Operation, body: dict[str, Any]) -> str:
    """The digest of a JSON request."""
    return fingerprint(operation, body)


def _file_digest(upload: ImageInput | None) -> str | None:
    if upload is None:
        return None
    return hashlib.sha256(upload.value).hexdigest()  # type: ignore[arg-type]


def upload_digest(operation: Operation, form: UploadForm) -> str:
    """The digest of a multipart request: its fields and a SHA-256 of each file, in order."""
    return fingerprint(operation, {"fields": form.fields, "image": [_file_digest(i) for i in form.images],
                                   "mask": _file_digest(form.mask), "markup": _file_digest(form.markup)})
