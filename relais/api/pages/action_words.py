"""An orchestrated action's result said with what it did, for the case history:
« Dossiers rassemblés (3/3) », « Convocation envoyée », « Rappel envoyé »… instead of
« Action effectuée ». From the action's name and, where the reader may read it, its summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from relais.api.reporting.labels import pick, words
from relais.i18n import tr
from relais.institutions.dates import swiss_date
from relais.workflows.engine.actions import known_actions

DONE = {
    "gather_files": ("Dossiers rassemblés", "Files gathered"),
    "convene_assessment": ("Convocation envoyée", "Convocation sent"),
    "notify_person": ("Notification à la personne envoyée", "Notice sent to the person"),
    "notify_institutions": ("Notification aux institutions envoyée",
                            "Notice sent to the institutions"),
    "remind_owner": ("Rappel envoyé", "Reminder sent"),
    "alert_coordination": ("Alerte envoyée à la coordination",
                           "Alert sent to the coordination"),
    "notify_receiver": ("Transfert annoncé à l'institution destinataire",
                        "Handoff announced to the receiving institution"),
    "notify_sender": ("Refus du transfert annoncé à l'institution d'origine",
                      "Handoff refusal announced to the sending institution"),
}


def action_said(action: str | None, summary: Mapping[str, Any] | None, lang: str) -> str:
    """What the action did, in ``lang``; empty when the reader is not told which action."""
    if not action:
        return ""
    if action in DONE:
        said = words(lang, *DONE[action])
    else:  # an action a plug-in registered: its own title
        title = known_actions().get(action, {})
        said = tr(lang, "%(action)s: done") % {"action": pick(title, lang, action)}
    summary = summary or {}
    if action == "gather_files" and "gathered" in summary:
        asked = set(summary.get("asked") or []) | set(summary.get("missing") or {})
        said += f" ({len(summary['gathered'] or [])}/{len(asked)})"
    meeting = summary.get("meeting")
    if action == "convene_assessment" and isinstance(meeting, dict) and meeting.get("day"):
        day = swiss_date(date.fromisoformat(str(meeting["day"])))
        at = f"{day} {meeting.get('time', '')}".strip()
        said += tr(lang, " (round table on %(day)s)") % {"day": at}
    return said
