"""Words of the steering tables, French and English, and the titles the routes give.

``Titles`` carries what the indicators answer names only by key (states, outcomes, routes,
institutions), in both languages; ``titles_from`` builds it from the published routes and
the registry. A key without a title is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from relais.i18n import LANGS, said, text_in
from relais.institutions.registry import Registry
from relais.workflows.engine.model import Route

Lang = str  # "fr", "de", "it" or "en"
Text = Mapping[str, str]

KINDS: dict[str, Text] = {
    "AC": {"fr": "Assurance-chômage", "en": "Unemployment insurance"},
    "AI": {"fr": "Assurance-invalidité", "en": "Disability insurance"},
    "SA": {"fr": "Action sociale", "en": "Social assistance"},
    "FP": {"fr": "Formation professionnelle", "en": "Vocational training"},
    "MIG": {"fr": "Migration", "en": "Migration"},
    "CII": {"fr": "Coordination CII", "en": "CII coordination"},
}

PROGRAMME_TYPES: dict[str, Text] = {
    "occupation": {"fr": "Occupation", "en": "Occupation"},
    "socio_professionnel": {"fr": "Socio-professionnel", "en": "Socio-professional"},
    "professionnel": {"fr": "Professionnel", "en": "Professional"},
}

SMALL_RULE: Text = {
    "fr": "Aucun chiffre publié ne désigne une personne. De 1 à 4, un nombre est affiché "
          "« <5 » ; tous les autres sont arrondis au multiple de 5 le plus proche (7 → 5, "
          "8 → 10). Les parties ne s'additionnent donc pas toujours exactement à leur total.",
    "en": "No published figure points at a person. Counts from 1 to 4 are shown as \"<5\"; "
          "every other count is rounded to the nearest multiple of 5 (7 → 5, 8 → 10). Parts "
          "therefore do not always add up exactly to their total.",
}
SMALL_RULE_TITLE: Text = {"fr": "Règle des petits nombres", "en": "Small-count rule"}


def small_rule(lang: str) -> str:
    """The rule with its title, in one sentence group."""
    return f"{pick(SMALL_RULE_TITLE, lang)}{' :' if lang == 'fr' else ':'} {pick(SMALL_RULE, lang)}"


def words(lang: Lang, fr: str, en: str) -> str:
    """A label written in French and English where it is defined, in ``lang`` (German and
    Italian from the catalogues, whose msgid is the English)."""
    return said(lang, fr, en)


def pick(text: Text | None, lang: Lang, fallback: str = "") -> str:
    """The text in ``lang`` (``relais.i18n.text_in``: its own, the catalogue's, French)."""
    return text_in(text, lang, fallback)


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ValueError(f"langue inconnue « {lang} » / unknown language (fr, de, it, en)")
    return lang


@dataclass(frozen=True)
class Titles:
    """Titles by key: routes, states, outcomes, institutions (each ``{"fr", "en"}``)."""

    routes: Mapping[str, Text] = field(default_factory=dict)
    states: Mapping[str, Text] = field(default_factory=dict)
    outcomes: Mapping[str, Text] = field(default_factory=dict)
    institutions: Mapping[str, Text] = field(default_factory=dict)
    state_order: tuple[str, ...] = ()  # the states in the routes' own order
    outcome_order: tuple[str, ...] = ()

    def state(self, key: str, lang: Lang) -> str:
        return pick(self.states.get(key), lang, key)

    def outcome(self, key: str, lang: Lang) -> str:
        return pick(self.outcomes.get(key), lang, key)

    def route(self, key: str | None, lang: Lang) -> str:
        if key is None:
            return pick({"fr": "Toutes les routes", "en": "All routes"}, lang)
        return pick(self.routes.get(key), lang, key)

    def institution(self, code: str, lang: Lang) -> str:
        return pick(self.institutions.get(code), lang, code)


def titles_from(routes: Iterable[Route], registry: Registry) -> Titles:
    """Titles of these routes (the latest version of each wins: give them oldest first) and
    of the registry's institutions. A state or outcome of the same name on several routes
    keeps the first route's title (routes sorted by id)."""
    latest: dict[str, Route] = {}
    for r in routes:
        if r.id not in latest or r.version >= latest[r.id].version:
            latest[r.id] = r
    states: dict[str, Text] = {}
    outcomes: dict[str, Text] = {}
    for rid in sorted(latest):
        for name, spec in latest[rid].states.items():
            states.setdefault(name, dict(spec.title))
        for name, text in latest[rid].outcomes.items():
            outcomes.setdefault(name, dict(text))
    return Titles(routes={rid: dict(r.title) for rid, r in latest.items()}, states=states,
                  outcomes=outcomes,
                  institutions={i.code: dict(i.name) for i in registry},
                  state_order=tuple(states), outcome_order=tuple(outcomes))


def ordered(keys: Iterable[str], order: tuple[str, ...]) -> list[str]:
    """Keys in the routes' order, unknown keys after them alphabetically."""
    rank = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def swiss(d: date) -> str:
    return d.strftime("%d.%m.%Y")
