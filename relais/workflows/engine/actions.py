"""Names of the orchestrated actions a route may start when a case enters a state.

The engine only knows the names (so validation can refuse unknown ones) and writes an outbox
row for each; the orchestration layer (``orchestration/``) registers what each one does.
"""

from __future__ import annotations

from collections.abc import Mapping

_ACTIONS: dict[str, Mapping[str, str]] = {
    "gather_files": {"fr": "Réunir les dossiers de chaque institution partenaire",
                     "en": "Gather each partner institution's file"},
    "convene_assessment": {"fr": "Convoquer la table ronde d'assessment",
                           "en": "Convene the assessment round table"},
    "notify_person": {"fr": "Informer la personne", "en": "Notify the person"},
    "notify_institutions": {"fr": "Informer les institutions partenaires",
                            "en": "Notify the partner institutions"},
}


def register_action(name: str, title: Mapping[str, str]) -> None:
    """Make ``name`` available to routes (an orchestration plug-in adds its own)."""
    _ACTIONS[name] = title


def known_actions() -> Mapping[str, Mapping[str, str]]:
    return dict(_ACTIONS)
