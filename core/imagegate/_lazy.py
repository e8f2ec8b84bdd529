"""Package attributes that import their module on first use (keeps ``import imagegate`` and start-up cheap)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_getattr(module_name: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` for module ``module_name`` that imports ``name`` from module ``table[name]``, once."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            msg = f"module {module_name!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[module_name], name, value)
        return value

    return __getattr__
