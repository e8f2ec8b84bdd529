"""The ``imagegate`` command line, and the helpers a plugin's ``register_commands`` may use.

Commands import the gateway only when they run, and plugins add commands and servers through
the ``register_commands`` and ``serve_subcommand`` hooks, so ``imagegate --help`` stays fast.

For plugin commands: :func:`cli_gateway` (an async context manager giving the configured gateway),
:func:`run_async`, :func:`emit_json` / :func:`echo` (answers without terminal escapes),
:func:`fail` (an error with its code and exit status) and ``JSON_OPTION`` (the ``--json`` flag).
"""

from __future__ import annotations

from ._app import main
from ._output import JSON_OPTION, cli_gateway, echo, emit_json, fail, run_async

__all__ = ["JSON_OPTION", "cli_gateway", "echo", "emit_json", "fail", "main", "run_async"]
