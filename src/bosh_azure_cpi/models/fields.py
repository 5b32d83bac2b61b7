"""Typed reads from JSON objects that name the offending key path in every error.

``Fields(doc, "vm_type.cloud_properties").text("instance_type")`` returns the value or raises
``InvalidArgument("'vm_type.cloud_properties.instance_type' must be a string, got number")``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.protocol import json_type

_MISSING: Any = object()


class Fields:
    """Read typed values out of one JSON object; ``path`` prefixes key names in errors."""

    __slots__ = ("doc", "path")

    def __init__(self, doc: Any, path: str) -> None:
        if doc is None:
            doc = {}
        if not isinstance(doc, Mapping):
            raise InvalidArgument(f"'{path}' must be an object, got {json_type(doc)}")
        self.doc: Mapping[str, Any] = doc
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return self.doc.get(name) is not None

    def raw(self, name: str, default: Any = None) -> Any:
        value = self.doc.get(name)
        return default if value is None else value

    def fail(self, name: str, problem: str) -> InvalidArgument:
        return InvalidArgument(f"'{self.key(name)}' {problem}")

    def text(self, name: str, default: Any = _MISSING) -> Any:
        """A string; ``default`` when absent or null (required when no default is given)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {json_type(value)}")
        return value

    def nonempty(self, name: str, default: Any = _MISSING) -> Any:
        value = self.text(name, default)
        if value == "":
            raise self.fail(name, "must not be empty")
        return value

    def integer(self, name: str, default: Any = _MISSING, *, minimum: int | None = None) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            else:
                raise self.fail(name, f"must be an integer, got {json_type(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be at least {minimum}, got {value}")
        return value

    def number(self, name: str, default: Any = _MISSING, *, minimum: float | None = None) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"must be a number, got {json_type(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be at least {minimum}, got {value}")
        return float(value)

    def flag(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise self.fail(name, f"must be a boolean, got {json_type(value)}")
        return value

    def choice(self, name: str, allowed: Iterable[str], default: Any = _MISSING) -> Any:
        """A string from ``allowed`` (matched case-insensitively, returned in its canonical spelling)."""
        value = self.text(name, default)
        if value is default and default is not _MISSING:
            return value
        for option in allowed:
            if option.lower() == value.lower():
                return option
        raise self.fail(name, f"must be one of {', '.join(allowed)}; got '{value}'")

    def obj(self, name: str) -> Fields:
        """A nested object (absent or null reads as empty)."""
        return Fields(self.doc.get(name), self.key(name))

    def array(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list):
            raise self.fail(name, f"must be an array, got {json_type(value)}")
        return value

    def text_list(self, name: str, default: Any = _MISSING) -> Any:
        values = self.array(name, default)
        if values is default and default is not _MISSING:
            return values
        for index, item in enumerate(values):
            if not isinstance(item, str):
                raise self.fail(f"{name}[{index}]", f"must be a string, got {json_type(item)}")
        return values

    def text_map(self, name: str) -> dict[str, str]:
        """An object whose values are stringified (tags, metadata); absent reads as empty."""
        value = self.doc.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"must be an object, got {json_type(value)}")
        return {str(k): _stringify(v) for k, v in value.items()}

    def _get(self, name: str, default: Any) -> Any:
        value = self.doc.get(name)
        if value is None:
            if default is _MISSING:
                raise self.fail(name, "is required")
            return default
        return value


def _stringify(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
