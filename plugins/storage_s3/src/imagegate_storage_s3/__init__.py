"""S3 storage for imagegate (``STORAGE__BACKEND=s3``): AWS S3, MinIO, R2, Ceph and friends.

Set ``STORAGE__S3__BUCKET`` (and ``STORAGE__S3__ENDPOINT_URL`` for anything but AWS); credentials
come from the AWS credential chain. Each image is stored as ``<prefix>/YYYY/MM/DD/<id>.<ext>``
with its content type, and its metadata as ``<id>.json`` beside it; URLs are presigned GET URLs
(``STORAGE__S3__URL_TTL_S``, default ``GATEWAY__URL_TTL_S``).

When the bucket fails after a provider was paid, the gateway keeps the image in the spool
(``STORAGE__SPOOL_DIR``) and serves it from there. This plugin drains the spool into the bucket
when a gateway opens, every ``STORAGE__S3__DRAIN_INTERVAL_S`` seconds while it stays open (default
60, 0 turns it off), and on demand with ``imagegate spool drain`` (``imagegate spool list`` shows it).
"""

from __future__ import annotations

from typing import Any

from imagegate import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    from .backend import S3Storage

    register.add_storage("s3", S3Storage.from_settings)


@hookimpl
def register_settings(register: Any) -> None:
    from .settings import S3Settings

    register.add_section("storage.s3", S3Settings)


@hookimpl
def startup(gateway: Any) -> Any:
    if getattr(gateway.storage, "name", None) != "s3":
        return None
    from .drain import drain_at_startup

    return drain_at_startup(gateway)


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import spool

    cli.add_command(spool)
