"""A kit for plugin authors: pytest fixtures and a conformance suite.

Installed as a pytest plugin (entry point ``pytest11``), so any project that installs imagegate
gets the fixtures: ``imagegate_settings`` (temporary storage and spool), ``imagegate_pm`` (the
placeholder provider and local storage, no entry points), ``gateway`` (an opened gateway over
both) and ``fake_sleep`` (records back-off delays instead of sleeping). Subclass
:class:`~imagegate.testing.conformance.ProviderConformance` or
:class:`~imagegate.testing.conformance.StorageConformance` in your tests to hold your plugin to
the same rules as the bundled ones. ``imagegate.testing.mock_http.mock_upstream`` is aioresponses
made to work with the installed aiohttp, for unit tests that fake an upstream.
"""

from __future__ import annotations

from .conformance import REQUIRED_METADATA, ProviderConformance, ProviderTarget, StorageConformance
from .factories import FakeSleep, build_gateway, temp_settings

__all__ = [
    "REQUIRED_METADATA",
    "FakeSleep",
    "ProviderConformance",
    "ProviderTarget",
    "StorageConformance",
    "build_gateway",
    "temp_settings",
]
