"""A route's technical words said the way coordinators read them, French first.

The route file says ``owner: lead`` or ``deadline: 10 working days``; the pages say
« institution responsable » and « 10 jours ouvrables ». Shared by the routes pages, the
workshop and its comparison.
"""

from __future__ import annotations

from relais.i18n import duration_words, said, tr
from relais.workflows.engine.compare import Change
from relais.workflows.engine.durations import Duration
from relais.workflows.engine.model import CHOOSE, COORDINATION, ESCALATE, LEAD

ASPECTS = {"owner": ("responsable", "owner"), "deadline": ("délai", "deadline"),
           "on_deadline": ("à l'échéance", "when the deadline passes"),
           "actions": ("actions", "actions"), "final": ("final", "final"),
           "outcome": ("issue", "outcome"), "target": ("état d'arrivée", "target state"),
           "guard": ("condition", "guard"), "require": ("à fournir", "required input"),
           "signoff": ("signatures", "sign-off"), "lead": ("transfert vers", "handoff to"),
           "type": ("type", "type"), "min": ("minimum", "minimum"),
           "max": ("maximum", "maximum"), "category": ("catégorie", "category"),
           "institutions": ("institutions", "institutions"),
           "calendar": ("calendrier", "calendar"), "initial": ("état initial", "initial state"),
           "handoff_deadline": ("délai de réponse à un transfert", "handoff answer deadline")}

SECTIONS = {"route": ("Route", "Route"), "state": ("État", "State"),
            "transition": ("Transition", "Transition"), "field": ("Champ", "Field"),
            "outcome": ("Issue", "Outcome")}

HOW = {"added": ("ajouté", "added"), "removed": ("supprimé", "removed"),
       "changed": ("modifié", "changed")}


class Words:
    """Bound to a page's language; handed to templates as ``words``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def _t(self, fr: str, en: str) -> str:
        return said(self.lang, fr, en)

    def duration(self, d: Duration | str | None) -> str:
        if d is None or d == "":
            return "—"
        if isinstance(d, str):  # as the comparison carries it: "10 working days"
            n, _, unit = d.partition(" ")
            d = Duration(int(n), unit.replace(" ", "_"))  # type: ignore[arg-type]
        return duration_words(d.n, d.unit, self.lang)

    def owner(self, names: tuple[str, ...] | str) -> str:
        items = names.split(", ") if isinstance(names, str) else list(names)
        said = [self._t("institution responsable", "lead institution") if n == LEAD
                else self._t("coordination CII", "CII coordination") if n == COORDINATION
                else n for n in items if n]
        joint = len(said) > 1
        return (self._t("conjoint : ", "joint: ") if joint else "") + ", ".join(said) or "—"

    def on_deadline(self, value: str) -> str:
        if value == ESCALATE:
            return self._t("escalade à la coordination", "escalate to the coordination")
        return tr(self.lang, "fires '%(event)s'") % {"event": value} if value else "—"

    def lead(self, value: str | None) -> str:
        if not value:
            return ""
        if value == CHOOSE:
            return self._t("au choix de l'acteur", "chosen by the actor")
        return value

    def aspect(self, name: str) -> str:
        return self._t(*ASPECTS.get(name, (name, name)))

    def section(self, name: str) -> str:
        return self._t(*SECTIONS[name])

    def how(self, name: str) -> str:
        return self._t(*HOW[name])

    def value(self, change: Change, side: str) -> str:
        """One side of a change, in words where the aspect has words."""
        raw = change.before if side == "before" else change.after
        if raw == "":
            return "—"
        if change.aspect in ("deadline", "handoff_deadline"):
            return self.duration(raw)
        if change.aspect == "owner":
            return self.owner(raw)
        if change.aspect == "on_deadline":
            return self.on_deadline(raw)
        if change.aspect == "lead":
            return self.lead(raw)
        return raw
