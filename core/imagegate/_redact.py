"""Keep secrets and image data out of logs and spans.

Three rules, applied to every value before it leaves the process: values under a key that names
a secret (``*key*``, ``*token*``, ``*secret*``, ``authorization``, ...) are dropped; long runs of
the base64 alphabet (image data) are replaced by their length; and any configured secret value
(provider keys, gateway keys, the URL signing key, key-like environment variables) is masked
wherever it appears, even inside an upstream error message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "Redactor", "is_secret_name"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"key|token|secret|authorization|password|passwd|cookie|credential", re.I)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{256,}={0,2}")
_MIN_SECRET_LENGTH = 6


def is_secret_name(name: str) -> bool:
    """Whether a field or header name says its value is a secret."""
    return bool(_SECRET_NAME.search(name))


def _base64_note(match: re.Match[str]) -> str:
    return f"[base64 data, {len(match.group(0))} chars]"


class Redactor:
    """Scrubs strings and nested structures; built once per gateway from its settings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {value for value in secrets if value and len(value) >= _MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def from_settings(cls, settings: Any, environ: Mapping[str, str] | None = None) -> Redactor:
        """Collect the secret values the configuration and the environment hold."""
        secrets: list[str] = []
        for section in settings.providers.values():
            secrets.extend(_secret_values(section))
        secrets.extend(settings.gateway.api_keys)
        signing = settings.gateway.url_signing_key
        if signing is not None:
            secrets.append(signing.get_secret_value())
        for name, value in (os.environ if environ is None else environ).items():
            if is_secret_name(name):
                secrets.append(value)
        return cls(secrets)

    def text(self, value: str) -> str:
        """A string with secrets masked and base64 runs replaced."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return _BASE64_RUN.sub(_base64_note, value)

    def value(self, value: Any) -> Any:
        """Scrub a JSON-like value: dicts, lists, strings; bytes are never passed through."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(key): REDACTED if is_secret_name(str(key)) else self.value(item)
                    for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        if isinstance(value, bytes | bytearray | memoryview):
            return f"[{len(value)} bytes]"
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.text(str(value))


def _secret_values(raw: Any) -> list[str]:
    """String values under secret-named keys, at any depth of a settings section."""
    found: list[str] = []
    if isinstance(raw, Mapping):
        for key, item in raw.items():
            if is_secret_name(str(key)) and isinstance(item, str):
                found.append(item)
            elif hasattr(item, "get_secret_value") and is_secret_name(str(key)):
                found.append(item.get_secret_value())
            else:
                found.extend(_secret_values(item))
    return found
