"""Which distribution brings what, so a command whose plugin is missing says what to install."""

from __future__ import annotations

__all__ = ["FRONTENDS", "STORAGE_BACKENDS", "install_hint"]

FRONTENDS = {"http": "imagegate-http", "mcp": "imagegate-mcp"}
"""``imagegate serve <name>`` -> the distribution that serves it."""

STORAGE_BACKENDS = {"local": "imagegate-storage-local", "s3": "imagegate-storage-s3"}
"""``STORAGE__BACKEND`` -> the distribution of that backend."""


def install_hint(distribution: str | None) -> str:
    """Where to get a missing plugin (empty when no bundled distribution brings it)."""
    if not distribution:
        return ""
    return (f"; the {distribution} plugin is not installed (or is switched off by IMAGEGATE_DISABLE_PLUGINS):"
            f" pip install {distribution}")
