"""The shape of a route file: which keys exist where, which are required, their types.

Checks report into a ``Located`` document and never stop at the first problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .located_yaml import REJECTED, Located, Path

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME = re.compile(r"^[a-z][A-Za-z0-9_]*$")
LANGUAGES = {"fr", "en", "de", "it", "rm"}
# what the database holds: route ids, state, event and outcome names are 64-character
# columns, versions a 32-bit integer (a version past it validated, then failed to publish)
MAX_NAME = 64
MAX_VERSION = 2**31 - 1

TOP_KEYS = {"id", "version", "title", "description", "institutions", "calendar", "initial",
            "outcomes", "fields", "states", "transitions", "handoff_deadline"}
TOP_REQUIRED = ("id", "version", "title", "institutions", "calendar", "initial", "states",
                "transitions")
STATE_KEYS = {"title", "description", "owner", "deadline", "on_deadline", "actions", "final",
              "outcome"}
TRANSITION_KEYS = {"event", "from", "to", "guard", "require", "signoff", "lead", "title"}
TRANSITION_REQUIRED = ("event", "from", "to")
FIELD_KEYS = {"type", "min", "max", "values", "title", "category", "recipients", "titles"}
FIELD_CATEGORIES = ("situation", "medical", "aide_sociale")
FIELD_TYPES = ("integer", "number", "boolean", "string", "date", "enum", "consent")

_TYPE_NAMES = {
    "text": ("un texte", "a text"), "int": ("un entier", "an integer"),
    "bool": ("true ou false", "true or false"), "map": ("une table (clé: valeur)", "a mapping"),
    "list": ("une liste", "a list"),
    "names": ("un nom ou une liste de noms", "a name or a list of names"),
    "number": ("un nombre", "a number"),
}


def found(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "text", bool: "boolean", int: "integer",
             float: "number", type(None): "nothing", date: "date"}
    return names.get(type(value), type(value).__name__)


class Shape:
    """Type checks that report and answer whether the value can be used further."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc

    def wrong(self, path: Path, expected: str, value: Any) -> None:
        if value is REJECTED:
            return
        fr, en = _TYPE_NAMES[expected]
        self.doc.problem(path, "wrong_type", expected=f"{fr} / {en}", found=found(value))

    def mapping(self, path: Path, value: Any) -> bool:
        if not isinstance(value, dict):
            self.wrong(path, "map", value)
            return False
        return True

    def keys(self, path: Path, value: Mapping[str, Any], allowed: set[str],
             required: tuple[str, ...] = ()) -> None:
        for key in value:
            if key not in allowed:
                self.doc.problem((*path, key), "unknown_key", key=key,
                                 allowed=", ".join(sorted(allowed)))
        for key in required:
            if key not in value:
                self.doc.problem(path, "missing_key", key=key)

    def text(self, path: Path, value: Any) -> bool:
        if not isinstance(value, str) or not value.strip():
            if isinstance(value, str):
                self.doc.problem(path, "empty")
            else:
                self.wrong(path, "text", value)
            return False
        return True

    def name(self, path: Path, value: str, code: str = "bad_name") -> bool:
        """A route id (``code="bad_slug"``) or a name of a state, event, outcome or field."""
        if len(value) > MAX_NAME:
            self.doc.problem(path, "too_long", length=len(value), limit=MAX_NAME)
            return False
        if not (SLUG if code == "bad_slug" else NAME).match(value):
            self.doc.problem(path, code, value=value)
            return False
        return True

    def integer(self, path: Path, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong(path, "int", value)
            return False
        return True

    def boolean(self, path: Path, value: Any) -> bool:
        if not isinstance(value, bool):
            self.wrong(path, "bool", value)
            return False
        return True

    def number(self, path: Path, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(path, "number", value)
            return False
        return True

    def names(self, path: Path, value: Any, *, allow_one: bool = True) -> tuple[str, ...] | None:
        """A name or a list of names (``from: a`` or ``from: [a, b]``)."""
        if allow_one and isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list):
            if not value:
                self.doc.problem(path, "empty")
                return None
            ok = [self.text((*path, i), v) for i, v in enumerate(value)]
            return tuple(value) if all(ok) else None
        self.wrong(path, "names" if allow_one else "list", value)
        return None

    def lang_text(self, path: Path, value: Any) -> dict[str, str] | None:
        """``{fr: ..., en: ...}``; French required. A plain string counts as French."""
        if isinstance(value, str) and value.strip():
            return {"fr": value}
        if not self.mapping(path, value):
            return None
        ok = True
        for lang, text in value.items():
            if lang not in LANGUAGES:
                self.doc.problem((*path, lang), "unknown_language", lang=lang)
                ok = False
            ok = self.text((*path, lang), text) and ok
        if "fr" not in value:
            self.doc.problem(path, "fr_required")
            ok = False
        return dict(value) if ok else None
