"""A validated route: plain, immutable data. Built only by ``validate.parse_route``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .durations import Duration
from .guards import FieldType, Guard

Text = Mapping[str, str]  # by language; "fr" always present

LEAD = "lead"
COORDINATION = "coordination"
ESCALATE = "escalate"
CHOOSE = "choose"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    minimum: float | None = None
    maximum: float | None = None
    title: Text | None = None
    category: str = "situation"  # situation | medical | aide_sociale: who may see it
    # a ``consent`` field: whom the case's consent must name (kinds or codes); () = the
    # route's institutions and the coordination (see ``Route.consent_recipients``)
    recipients: tuple[str, ...] = ()
    # an ``enum`` field's values as people read them (``titles:`` beside ``values:``);
    # a value without a title is read as its name
    value_titles: Mapping[str, Text] = field(default_factory=dict)

    def value_title(self, value: str, lang: str) -> str:
        title = self.value_titles.get(value)
        if title:
            return title.get(lang) or title["fr"]
        return value.replace("_", " ")

    @property
    def computed(self) -> bool:
        """A ``consent`` field: true while a consent record of the case names its
        recipients; computed when guards are evaluated, never written."""
        return self.type.type == "consent"


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: Text
    owner: tuple[str, ...] = ()  # ("lead",), ("coordination",), or kinds/codes
    deadline: Duration | None = None
    on_deadline: str = ESCALATE
    actions: tuple[str, ...] = ()
    final: bool = False
    needs_outcome: bool = True  # entering this final state needs an outcome

    @property
    def joint(self) -> bool:
        """Owned by institutions named by kind or code (an assessment, a round table), not by
        the lead or the coordination alone: the case's partners work in it."""
        return self.owner not in ((LEAD,), (COORDINATION,), ())


@dataclass(frozen=True)
class TransitionSpec:
    index: int
    event: str
    sources: tuple[str, ...]
    target: str
    guard: Guard | None = None
    require: tuple[str, ...] = ()
    signoff: tuple[str, ...] = ()
    lead: str | None = None  # a kind, a code, or "choose": a handoff
    title: Text | None = None


@dataclass(frozen=True)
class Route:
    id: str
    version: int
    title: Text
    institutions: tuple[str, ...]
    calendar: str
    initial: str
    states: Mapping[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    outcomes: Mapping[str, Text] = field(default_factory=dict)
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    description: Text | None = None
    handoff_deadline: Duration = field(default_factory=lambda: Duration(5, "working_days"))
    source: str = ""
    digest: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if state in t.sources]

    def events_from(self, state: str) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.transitions_from(state):
            seen.setdefault(t.event, None)
        return list(seen)

    def consent_recipients(self, spec: FieldSpec) -> tuple[str, ...]:
        """Whom a consent field's consent must name: its own ``recipients``, else the
        route's institutions and the coordination (kind CII)."""
        return spec.recipients or tuple(dict.fromkeys((*self.institutions, "CII")))

    @property
    def consent_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields.values() if f.computed)

    def field_types(self) -> dict[str, FieldType]:
        return {name: f.type for name, f in self.fields.items()}
