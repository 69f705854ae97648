"""A copy of a frozen dataclass with some fields changed, at half the cost of
``dataclasses.replace`` (which calls ``__init__`` with every field again). Every transition
copies the case and its events several times; nothing else needs more than ``replace``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")
_set = object.__setattr__  # a frozen dataclass refuses its own __setattr__


_NAMES: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def _names(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    found = _NAMES.get(cls)
    if found is None:
        names = tuple(f.name for f in fields(cls))
        found = _NAMES[cls] = (names, frozenset(names))
    return found


def but(obj: T, changes: dict[str, Any]) -> T:
    """``obj`` with ``changes``; the names must be fields (unknown ones raise TypeError)."""
    cls = type(obj)
    names, known = _names(cls)
    if not changes.keys() <= known:
        raise TypeError(f"{cls.__name__} has no field {sorted(changes.keys() - known)}")
    new = object.__new__(cls)
    for name in names:
        _set(new, name, changes[name] if name in changes else getattr(obj, name))
    return new
