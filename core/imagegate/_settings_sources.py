"""Where settings come from besides the core's own variables: the config file and plugin sections.

Both sources check what they read against the :class:`~imagegate._settings_registry.SettingsRegistry`,
so a missing or malformed config file, or a key nobody reads, is an ``invalid_request`` naming the
file, the line or the key (and the nearest valid one) instead of a traceback or silence.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_settings import PydanticBaseSettingsSource

from ._errors import InvalidRequest

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo
    from pydantic_settings import BaseSettings

    from ._settings_registry import SettingsRegistry

__all__ = ["CONFIG_VARIABLE", "ConfigFileSource", "PluginSectionsSource", "environment_tree"]

CONFIG_VARIABLE = "IMAGEGATE_CONFIG"
DELIMITER = "__"


def environment_tree(registry: SettingsRegistry, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The variables nested under a known section (``GATEWAY__…``, ``MCP__…``) as a nested dict.

    Variables under other prefixes belong to other programs and are left alone.
    """
    known = registry.top_level()
    tree: dict[str, Any] = {}
    for name, value in (os.environ if environ is None else environ).items():
        parts = name.lower().split(DELIMITER)
        if len(parts) < 2 or parts[0] not in known or not all(parts):
            continue
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return tree


def _env_name(path: tuple[str, ...]) -> str:
    return DELIMITER.join(path).upper()


def _file_key(path: tuple[str, ...]) -> str:
    return ".".join(path)


class _Source(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field at once


class PluginSectionsSource(_Source):
    """Plugin sections outside the core's fields (``mcp``, ``observability``, …) from the
    environment, after checking every known-prefixed variable; with ``defaults=True``, an empty
    section for each declared one instead."""

    def __init__(self, settings_cls: type[BaseSettings], registry: SettingsRegistry, *, defaults: bool = False):
        super().__init__(settings_cls)
        self.registry = registry
        self.defaults = defaults

    def __call__(self) -> dict[str, Any]:
        if self.defaults:
            return self.registry.defaults()
        tree = environment_tree(self.registry)
        self.registry.check(tree, _env_name)
        return {key: value for key, value in tree.items() if key not in self.settings_cls.model_fields}


class ConfigFileSource(_Source):
    """The TOML file ``IMAGEGATE_CONFIG`` names, checked: it must exist, parse and hold only
    known keys."""

    def __init__(self, settings_cls: type[BaseSettings], registry: SettingsRegistry, path: str) -> None:
        super().__init__(settings_cls)
        self.registry = registry
        self.path = Path(path).expanduser()

    def __call__(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            msg = f"configuration file {self.path} ({CONFIG_VARIABLE}) does not exist"
            raise InvalidRequest(msg, param=CONFIG_VARIABLE) from None
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"configuration file {self.path} ({CONFIG_VARIABLE}) cannot be read: {exc}"
            raise InvalidRequest(msg, param=CONFIG_VARIABLE) from None
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:  # its message ends with "(at line L, column C)"
            msg = f"configuration file {self.path} is not valid TOML: {exc}"
            raise InvalidRequest(msg, param=CONFIG_VARIABLE) from None
        self.registry.check(document, _file_key, where=f" in {self.path}")
        return document
