"""The installed entry point is found, and every module imports cleanly (no warnings, documented)."""

from __future__ import annotations

from imagegate.testing import assert_discovered, assert_modules_import


def test_entry_point_is_discovered() -> None:
    assert_discovered("replicate", "imagegate-replicate", {"register_providers"})


def test_modules_import_cleanly() -> None:
    assert "imagegate_replicate.testing" in assert_modules_import("imagegate_replicate")
