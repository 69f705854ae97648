"""Walk a validated route with a list of events, before publishing it: which moves the
compiled machine takes, which it refuses and why. Nothing is written anywhere.

The case data the guards read are given as YAML (``age: 48``), read strictly and checked
like a case's own fields; each event is decided by the same compiled machine as a real
case's, from the state the previous event left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relais.api.errors import bilingual
from relais.cases.domain.errors import MissingInput
from relais.cases.domain.fields import checked_fields, guard_view
from relais.workflows.engine.compile import machine_for
from relais.workflows.engine.located_yaml import read_document
from relais.workflows.engine.model import Route, TransitionSpec

MAX_EVENTS = 100
YES_NO = {"oui": True, "non": False, "yes": True, "no": False, "ja": True, "nein": False,
          "sì": True, "si": True, "vrai": True, "faux": False}
MAX_FIELDS_TEXT = 5000


@dataclass(frozen=True)
class Move:
    event: str
    source: str
    target: str | None  # None: refused
    why: tuple[str, str] = ("", "")  # when refused: why, in French and English
    transition: TransitionSpec | None = None
    actions: tuple[str, ...] = ()


@dataclass
class Walk:
    events: str
    fields_text: str
    moves: list[Move] = field(default_factory=list)
    end: str = ""
    error: tuple[str, str] | None = None  # about the fields: shown next to that field


def _fields(route: Route, text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    if len(text) > MAX_FIELDS_TEXT:
        raise MissingInput(f"trop long (maximum {MAX_FIELDS_TEXT} caractères) / too long")
    doc = read_document(text)
    if doc.problems or not isinstance(doc.data, dict):
        detail = doc.problems[0].message("fr") if doc.problems else ""
        raise MissingInput(f"écrire un champ par ligne, « nom: valeur » {detail} / write one "
                           "field a line, 'name: value'")
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in doc.data.items()}
    # a yes/no as people write it: oui/non (ja/nein, sì/no, yes/no) as well as true/false
    values = {k: YES_NO.get(v.strip().lower(), v) if isinstance(v, str) and k in route.fields
              and route.fields[k].type.type in ("boolean", "consent") else v
              for k, v in values.items()}
    # a consent field (computed from the case's consent records) is simulated as a yes/no
    consents = {k: v for k, v in values.items() if k in route.fields and route.fields[k].computed}
    for name, value in consents.items():
        if not isinstance(value, bool):
            raise MissingInput(f"« {name} » : oui (consentement enregistré) ou non attendu "
                               f"/ yes (a consent recorded) or no expected", field=name)
    rest = {k: v for k, v in values.items() if k not in consents}
    return guard_view(route, checked_fields(route, rest)) | consents


def _refusal(route: Route, state: str, event: str,
             values: dict[str, Any] | None = None) -> tuple[str, str]:
    if route.states[state].final:
        return ("le dossier est clos dans cet état final", "the case is closed in this final "
                "state")
    if event not in {t.event for t in route.transitions}:
        return (f"« {event} » n'est pas un événement de la route", f"'{event}' is not an event "
                "of the route")
    if event not in route.events_from(state):
        return (f"« {event} » ne part pas de « {state} »", f"'{event}' does not leave "
                f"'{state}'")
    failed = [line for t in route.transitions
              if t.event == event and state in t.sources and t.guard is not None
              for line in t.guard.failed(values or {})]
    if failed:  # which condition, with the value it read
        said = " ; ".join(failed)
        return (f"condition non remplie : {said}", f"condition not met: {said}")
    return ("la condition n'est pas remplie avec ces données", "the guard does not hold with "
            "these data")


def simulate(route: Route, events: str, fields_text: str) -> Walk:
    walk = Walk(events, fields_text)
    try:
        values = _fields(route, fields_text)
    except MissingInput as exc:
        walk.error = bilingual(exc.message)
        return walk
    machine, state = machine_for(route), route.initial
    for event in [e.strip() for e in events.splitlines() if e.strip()][:MAX_EVENTS]:
        step = None if route.states[state].final else machine.step(state, event, values)
        if step is None:
            walk.moves.append(Move(event, state, None, _refusal(route, state, event, values)))
            break  # what follows would start from a state the case never reached
        walk.moves.append(Move(event, state, step.target, transition=step.transition,
                               actions=step.actions))
        state = step.target
    walk.end = state
    return walk
