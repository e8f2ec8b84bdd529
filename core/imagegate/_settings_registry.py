"""Which configuration sections and keys exist: the core's and those every installed plugin declares.

Plugins declare their sections through the ``register_settings`` hook
(``register.add_section("providers.openai", OpenAISettings)``). The registry then refuses keys
nobody reads, naming the key as the user wrote it and the nearest valid one, so a misspelt
``GATEWAY__DEFALT_MODEL`` or ``[gatway]`` is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ._errors import InvalidRequest

if TYPE_CHECKING:
    from ._settings import Settings

__all__ = ["SettingsRegistry", "check_values", "config_error"]

KeyNamer = Callable[[tuple[str, ...]], str]
"""Spells a key path the way its source does (``GATEWAY__MAX_IMAGES`` or ``gateway.max_images``)."""


class SettingsRegistry:
    """Sections by dotted path (``gateway``, ``providers.openai``, ``storage.s3``) and their fields.

    Several models may declare one section (the HTTP plugin adds its limits to ``gateway``); the
    section's valid keys are the union of their fields. ``add_open`` declares a section whose keys
    are the user's own (``models``, ``aliases``).
    """

    def __init__(self) -> None:
        self.sections: dict[str, list[type[BaseModel]]] = {}
        self.open: set[str] = set()

    def add_section(self, path: str, model: type[BaseModel]) -> None:
        """Declare that ``model`` reads the section at ``path`` (dotted, lower case)."""
        self.sections.setdefault(path.lower(), []).append(model)

    def add_open(self, path: str) -> None:
        """Declare a section whose keys are free (a catalog of the user's models, aliases)."""
        self.open.add(path.lower())

    # what exists -----------------------------------------------------------------------------

    def fields(self, path: str) -> set[str]:
        """The keys the models of the section at ``path`` read."""
        return {name for model in self.sections.get(path, []) for name in model.model_fields}

    def children(self, path: str) -> set[str]:
        """Names of the sections directly under ``path`` ("" is the root)."""
        depth = path.count(".") + 1 if path else 0
        names = set()
        for known in (*self.sections, *self.open):
            parts = known.split(".")
            if len(parts) > depth and (not path or known.startswith(path + ".")):
                names.add(parts[depth])
        return names

    def top_level(self) -> set[str]:
        """The first parts of every section (``gateway``, ``providers``, ``mcp``, …)."""
        return self.children("")

    def defaults(self) -> dict[str, Any]:
        """An empty dict for every declared section, so a plugin always finds its own."""
        tree: dict[str, Any] = {}
        for path in (*self.sections, *self.open):
            node = tree
            for part in path.split("."):
                node = node.setdefault(part, {})
        return tree

    def validate(self, settings: Settings) -> None:
        """Validate every declared section's values now, so a bad one fails every command alike."""
        for path, models in self.sections.items():
            raw = settings.raw_section(path)
            if raw:
                for model in models:
                    check_values(raw, model, path)

    # checking ------------------------------------------------------------------------------------

    def check(self, data: dict[str, Any], name: KeyNamer, where: str = "", prefix: tuple[str, ...] = ()) -> None:
        """Refuse the first key of ``data`` (one source's nested values) that nothing reads.

        ``name`` spells a key path as the source does; ``where`` adds e.g. the file it is in.
        """
        for key, value in data.items():
            path = (*prefix, str(key).lower())
            verdict = self._verdict(path, value)
            if verdict == "section":
                self.check(value, name, where, path)
            elif verdict == "not_a_section":
                msg = f"configuration {name(path)}{where}: a section, not a value; set its keys one by one"
                raise InvalidRequest(msg, param=name(path))
            elif verdict not in ("known", "foreign"):
                leaf = _first_leaf(path, value)  # a misspelt section: name a whole variable
                hint = f"; did you mean {name((*verdict, *leaf[len(path):]))}?" if verdict != path else ""
                msg = f"configuration {name(leaf)}{where}: unknown setting{hint}"
                raise InvalidRequest(msg, param=name(leaf))

    def _verdict(self, path: tuple[str, ...], value: Any) -> str | tuple[str, ...]:
        """``section`` (look inside), ``known``, ``foreign`` (a section of a plugin not installed
        here), or the nearest valid path (``path`` itself when nothing is near)."""
        parent, key, dotted = ".".join(path[:-1]), path[-1], ".".join(path)
        if dotted in self.open:
            return "known"
        subsections = self.children(parent)
        if dotted in self.sections or key in subsections:
            return "section" if isinstance(value, dict) else "not_a_section"
        if key in self.fields(parent):
            return "known"
        if isinstance(value, dict) and (not parent or subsections):
            close = difflib.get_close_matches(key, sorted(subsections), n=1, cutoff=0.8)
            return (*path[:-1], close[0]) if close else "foreign"
        close = difflib.get_close_matches(key, sorted(self.fields(parent) | subsections), n=1, cutoff=0.6)
        return (*path[:-1], close[0]) if close else path


def _first_leaf(path: tuple[str, ...], value: Any) -> tuple[str, ...]:
    """The first whole key under ``path`` (a variable's full name rather than its section's)."""
    while isinstance(value, dict) and value:
        key, value = next(iter(value.items()))
        path = (*path, str(key).lower())
    return path


def check_values(raw: dict[str, Any], model: type[BaseModel], where: str) -> None:
    """Refuse a bad value in a section; a required key that is missing is left for the plugin
    to report when it is used (``STORAGE__S3__BUCKET`` only matters with ``STORAGE__BACKEND=s3``)."""
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        bad = [error for error in exc.errors() if error["type"] != "missing"]
        if bad:
            raise config_error(where, exc, bad[0]) from None


def config_error(where: str, exc: ValidationError, first: Any = None) -> InvalidRequest:
    """A pydantic validation error as an ``invalid_request`` naming the variable."""
    first = first or exc.errors()[0]
    variable = "__".join([*filter(None, where.split(".")), *(str(part) for part in first["loc"])]).upper()
    msg = f"configuration {variable}: {first['msg']}"
    return InvalidRequest(msg, param=variable)
