"""What storage plugins need beyond ``imagegate.__all__``: atomic files, image ids, types and signed URLs.

* :class:`FileStore`: images and their metadata JSON on a local disk, written atomically
  (:func:`atomic_write` for any other file);
* :func:`new_image_id`, :func:`is_image_id`, :func:`shard_of`: the gateway's image ids;
* :func:`sniff_mime`, ``EXTENSIONS`` (MIME type → file extension), ``FORMAT_MIME`` and
  ``MIME_FORMAT`` (output format ↔ MIME type);
* :class:`UrlSigner` and :func:`signer_for`: signed, expiring ``/files`` URLs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._catalog import FORMAT_MIME
    from ._filestore import FileStore, atomic_write
    from ._formats import MIME_FORMAT
    from ._ids import is_image_id, new_image_id, shard_of
    from ._imagetype import EXTENSIONS, sniff_mime
    from ._signing import UrlSigner, signer_for

_LAZY: dict[str, str] = {
    "FORMAT_MIME": "imagegate._catalog",
    **dict.fromkeys(["FileStore", "atomic_write"], "imagegate._filestore"),
    "MIME_FORMAT": "imagegate._formats",
    **dict.fromkeys(["is_image_id", "new_image_id", "shard_of"], "imagegate._ids"),
    **dict.fromkeys(["EXTENSIONS", "sniff_mime"], "imagegate._imagetype"),
    **dict.fromkeys(["UrlSigner", "signer_for"], "imagegate._signing"),
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr("imagegate.files", _LAZY)
