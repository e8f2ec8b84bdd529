"""docs/plugin-hooks.md has a heading and the exact signature for every hook spec."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from imagegate import hookspecs

DOC = (Path(__file__).resolve().parents[1] / "docs" / "plugin-hooks.md").read_text()
SPECS = [(name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "imagegate_spec")]


def test_there_are_hooks() -> None:
    assert {name for name, _ in SPECS} >= {"register_providers", "register_storage", "register_commands",
                                           "serve_subcommand", "step_middleware", "provider_call_wrapper",
                                           "track_event"}


@pytest.mark.parametrize(("name", "fn"), SPECS, ids=[name for name, _ in SPECS])
def test_hook_has_heading_signature_and_docstring(name: str, fn: object) -> None:
    assert f"\n## {name}\n" in DOC
    signature = f"def {name}{inspect.signature(fn)}".replace("'", "")  # type: ignore[arg-type]
    assert signature in DOC
    doc = inspect.getdoc(fn) or ""
    assert "Called" in doc or "called" in doc
    assert "firstresult" in doc


def test_hookspecs_module_holds_only_hookspecs() -> None:
    public = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
              if fn.__module__ == hookspecs.__name__]
    assert sorted(public) == sorted(name for name, _ in SPECS)
