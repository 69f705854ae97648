"""Case fields: checked against the route's typed ``fields`` before anything is recorded."""

from __future__ import annotations

import math
import unicodedata
from datetime import date
from typing import Any

from relais.i18n import Said, bi
from relais.workflows.engine.model import Route

from .errors import MissingInput

MAX_TEXT = 2000
# what a case can mean, and what every store and client holds: no inf or NaN (PostgreSQL's
# JSON refuses them), integers exact in a JavaScript client, days of people's lives
MAX_MAGNITUDE = 2**53
YEARS = (1900, 2200)


def checked_fields(route: Route, values: Any) -> dict[str, Any]:
    """The values as stored (JSON-friendly); MissingInput names the first field at fault."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise MissingInput("fields doit être un objet / fields must be an object", field="fields")
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = route.fields.get(name)
        if spec is None:
            raise MissingInput(f"champ inconnu « {name} » pour cette route / unknown field",
                               field=name, known=sorted(route.fields))
        if spec.computed:
            raise MissingInput(f"« {name} » se lit du consentement enregistré au dossier, il "
                               f"ne s'écrit pas : enregistrer le consentement de la personne "
                               f"/ read from the consent recorded on the case, not written: "
                               f"record the person's consent", field=name)
        out[name] = _one(name, spec.type.type, spec.type.values, spec.minimum, spec.maximum,
                         value)
    return out


def _one(name: str, kind: str, values: tuple[str, ...], lo: float | None, hi: float | None,
         value: Any) -> Any:
    def bad(expected: Said) -> MissingInput:
        return MissingInput(bi("« %(name)s » : %(expected)s attendu",
                               "'%(name)s': %(expected)s expected", name=name,
                               expected=expected), field=name)

    if value is None:
        return None
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad(bi("true/false", "true/false"))
    elif kind in ("integer", "number"):
        ok = isinstance(value, int) if kind == "integer" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise bad(bi("entier", "integer") if kind == "integer" else bi("nombre", "number"))
        if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
            raise MissingInput(f"« {name} » : nombre hors limites / number out of range",
                               field=name)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise MissingInput(bi("« %(name)s » doit être entre %(lo)s et %(hi)s",
                                  "'%(name)s' must be between %(lo)s and %(hi)s", name=name,
                                  lo=lo, hi=hi), field=name)
    elif kind == "date":
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise bad(bi("date AAAA-MM-JJ", "date YYYY-MM-DD")) from None
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise MissingInput(bi("« %(name)s » : date entre %(first)s et %(last)s",
                                  "'%(name)s': a date between %(first)s and %(last)s",
                                  name=name, first=YEARS[0], last=YEARS[1]), field=name)
    else:
        if not isinstance(value, str) or len(value) > MAX_TEXT or not _storable(value):
            raise bad(bi("texte ≤ %(n)s caractères", "text ≤ %(n)s characters", n=MAX_TEXT))
        if kind == "enum" and value not in values:
            raise MissingInput(f"« {name} » : une de {', '.join(values)} / one of", field=name)
    return value


def _storable(text: str) -> bool:
    """No control character but line breaks and tabs, no lone surrogate (``"\\ud800"`` in
    JSON): PostgreSQL refuses both, and neither is anything a person wrote."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r"
                   for c in text)


def guard_view(route: Route, stored: dict[str, Any]) -> dict[str, Any]:
    """Stored values as guards compare them (dates as dates)."""
    out = dict(stored)
    for name, spec in route.fields.items():
        if spec.type.type == "date" and isinstance(out.get(name), str):
            out[name] = date.fromisoformat(out[name])
    return out
