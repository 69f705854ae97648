"""The typed inputs of the case managers' forms: a route's fields drawn as the right kind
of control, and the posted text read back into the values the case services expect.

A value that cannot be read raises the same ``MissingInput`` (with its ``field``) as the
domain does, so every error reaches the person the same way: under the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relais.cases.domain.errors import MissingInput
from relais.i18n import said
from relais.workflows.engine.model import FieldSpec, Route

from .render import title_in


@dataclass
class Input:
    """One control of a form, as the template draws it."""

    name: str  # the posted name
    label: str
    kind: str  # text | number | date | select | textarea
    value: str = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    step: str = ""
    minimum: str = ""
    maximum: str = ""
    hint: str = ""
    error: str = ""


def _number(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


def field_input(spec: FieldSpec, lang: str, value: Any = None, *, prefix: str = "champ.",
                required: bool = False) -> Input:
    """The control for one route field, showing ``value`` (the stored one, or as posted)."""
    t = spec.type.type
    label = title_in(lang, spec.title) if spec.title else spec.name
    shown = "" if value is None else str(value)
    unset = ("", said(lang, "— non renseigné —", "— not given —"))
    name = prefix + spec.name
    if t == "boolean":
        shown = {"True": "oui", "False": "non"}.get(shown, shown)
        yes_no = [("oui", said(lang, "Oui", "Yes")), ("non", said(lang, "Non", "No"))]
        return Input(name, label, "select", shown, required, [unset, *yes_no])
    if t == "enum":
        options = [(v, spec.value_title(v, lang)) for v in spec.type.values]
        return Input(name, label, "select", shown, required, [unset, *options])
    if t in ("integer", "number"):
        return Input(name, label, "number", shown, required, step="1" if t == "integer" else "any",
                     minimum=_number(spec.minimum), maximum=_number(spec.maximum))
    if t == "date":
        return Input(name, label, "date", shown, required)
    return Input(name, label, "text", shown, required)


def read_field(spec: FieldSpec, raw: str) -> Any:
    """The posted text as the field's value; None when left empty."""
    text = raw.strip()
    if not text:
        return None
    t = spec.type.type
    try:
        if t == "boolean":
            if text not in ("oui", "non"):
                raise ValueError(text)
            return text == "oui"
        if t == "integer":
            return int(text)
        if t == "number":
            return float(text) if "." in text or "e" in text.lower() else int(text)
        if t == "date":
            return date.fromisoformat(text).isoformat()
    except ValueError:
        expected = {"boolean": "oui ou non / yes or no", "integer": "un nombre entier / a whole "
                    "number", "number": "un nombre / a number", "date": "une date / a date"}[t]
        raise MissingInput(f"« {text[:40]} » : {expected} attendu / expected",
                           field=spec.name) from None
    return text


def read_fields(route: Route, form: Mapping[str, Any], names: Iterable[str], *,
                prefix: str = "champ.", unchanged: Mapping[str, Any] | None = None
                ) -> dict[str, Any]:
    """The given fields' posted values; empty ones, and (with ``unchanged``) the ones equal
    to what the case already holds, are left out: only what the person set is sent."""
    out: dict[str, Any] = {}
    for name in names:
        spec = route.fields.get(name)
        raw = form.get(prefix + name)
        if spec is None or spec.computed or not isinstance(raw, str):
            continue  # a consent field is read from the consent records, never posted
        value = read_field(spec, raw)
        if value is not None and (unchanged is None or unchanged.get(name) != value):
            out[name] = value
    return out


def text_of(form: Mapping[str, Any], name: str, limit: int = 2000) -> str:
    raw = form.get(name)
    return raw.strip()[:limit] if isinstance(raw, str) else ""
