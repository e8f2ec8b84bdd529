"""Local filesystem storage for imagegate (``STORAGE__BACKEND=local``, the default).

Images live under ``STORAGE__LOCAL__ROOT`` (default: the per-user data directory) as
``YYYY/MM/DD/<id>.<ext>`` with ``<id>.json`` metadata beside them. URLs are signed
``GATEWAY__PUBLIC_URL/files/<id>`` links when a public URL is set, else ``file://`` paths.
"""

from __future__ import annotations

from typing import Any

from imagegate import hookimpl


@hookimpl
def register_storage(register: Any) -> None:
    from .backend import LocalStorage

    register.add_storage("local", LocalStorage.from_settings)


@hookimpl
def register_settings(register: Any) -> None:
    from .backend import LocalSettings

    register.add_section("storage.local", LocalSettings)
