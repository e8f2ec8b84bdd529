"""The ``imagegate`` command line: images, catalog, plugins, configuration, and servers.

Commands import the gateway only when they run, and plugins add commands and servers through
the ``register_commands`` and ``serve_subcommand`` hooks, so ``imagegate --help`` stays fast.
"""

from __future__ import annotations

from .app import main

__all__ = ["main"]
