"""The installed entry point is found, with the hooks this plugin implements, and importing it
configures nothing (no global tracer provider, no log handler, no heavy imports)."""

from __future__ import annotations

import subprocess
import sys

from imagegate.testing import assert_discovered


def test_entry_point_is_discovered_with_its_hooks() -> None:
    info = assert_discovered("observability", "imagegate-observability")
    assert info.hooks == ["register_commands", "register_routes", "register_settings", "shutdown", "startup",
                          "step_middleware", "track_event"]


def test_loading_the_plugin_configures_nothing() -> None:
    script = """
import logging, sys
from imagegate._plugins import make_plugin_manager
pm = make_plugin_manager()
assert pm.get_plugin("observability") is not None
heavy = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "prometheus_client")))
assert not heavy, heavy
assert not logging.getLogger("imagegate.requests").handlers
print("clean")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"
