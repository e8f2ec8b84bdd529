"""The test kit for imagegate and its plugins.

Installed as a pytest plugin (entry point ``pytest11``, :mod:`imagegate.testing.plugin`), so any
project that installs imagegate gets the ``imagegate_*`` fixtures. Besides them:

* :class:`FakeUpstream`: the base of a fake provider API on loopback (recorded calls, scripted
  failures, hangs, schema checks of what it receives);
* :class:`ScriptedProvider` and :func:`scripted_model`: a provider whose attempts are scripted;
  :class:`ScriptedPlugin` registers one with its models;
* :func:`image_bytes`: real image files of any size and format;
* :func:`until`: wait for a condition (plain or async) without fixed sleeps, bounded;
* :class:`AttemptCounter`: a plugin counting upstream attempts (how many calls a request cost);
* :func:`run_cli`: the ``imagegate`` CLI in a subprocess, from an async test (:class:`CliRun`);
  :func:`stop_process` stops a child process a test started;
* :func:`assert_discovered`: the plugin's entry point is found and loads cleanly;
* :class:`ProviderConformance`, :class:`StorageConformance`, :class:`KeyStoreConformance` and
  :class:`JobStoreConformance`: subclass them to hold your plugin to the rules the bundled ones follow;
* :func:`build_gateway` (:func:`opened_gateway`: opened, closed after), :func:`temp_settings`,
  :class:`FakeSleep`: gateways without entry points, environment or real sleeping;
  :func:`add_virtual_key` gives one a virtual key;
  ``imagegate.testing.mock_http.mock_upstream`` is aioresponses made to work with the installed
  aiohttp, for unit tests.

Names load on first use, so the pytest plugin costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .cli import CliRun, run_cli
    from .counting import AttemptCounter
    from .conformance import (
        REQUIRED_METADATA,
        JobStoreConformance,
        KeyStoreConformance,
        ProviderConformance,
        ProviderTarget,
        StorageConformance,
    )
    from .discovery import assert_discovered, assert_modules_import
    from .factories import FakeSleep, add_virtual_key, build_gateway, opened_gateway, temp_settings
    from .fake_upstream import FakeUpstream, FormPart, ReceivedCall
    from .images import image_bytes
    from .processes import stop_process
    from .scripted import ScriptedPlugin, ScriptedProvider, scripted_model
    from .waiting import until

_LAZY: dict[str, str] = {
    **dict.fromkeys(["CliRun", "run_cli"], "imagegate.testing.cli"),
    "AttemptCounter": "imagegate.testing.counting",
    **dict.fromkeys(["REQUIRED_METADATA", "JobStoreConformance", "KeyStoreConformance", "ProviderConformance",
                     "ProviderTarget", "StorageConformance"], "imagegate.testing.conformance"),
    **dict.fromkeys(["assert_discovered", "assert_modules_import"], "imagegate.testing.discovery"),
    **dict.fromkeys(["FakeSleep", "add_virtual_key", "build_gateway", "opened_gateway", "temp_settings"],
                    "imagegate.testing.factories"),
    **dict.fromkeys(["FakeUpstream", "FormPart", "ReceivedCall"], "imagegate.testing.fake_upstream"),
    "image_bytes": "imagegate.testing.images",
    "stop_process": "imagegate.testing.processes",
    **dict.fromkeys(["ScriptedPlugin", "ScriptedProvider", "scripted_model"], "imagegate.testing.scripted"),
    "until": "imagegate.testing.waiting",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)
