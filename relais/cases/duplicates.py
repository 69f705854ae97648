"""The duplicate warning at a referral: the person already has an open case on the same
route, or on another route of the network. Said only as far as the caller may know it:

- a case the caller takes part in (or the coordination): its number, route and lead;
- another route's case whose identity the access policy would show the caller's institution
  (a legal basis: ``Sharing.may_know``): that one exists and which institution leads it;
- otherwise: that one exists, and that the coordination can bring the caller in.

Never the case's content. Each answer carries the way forward in words: ask the lead (or the
coordination) to let the caller's institution take part, or a handoff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .domain.actors import Actor
from .domain.case import CaseState
from .domain.errors import DuplicateCase
from .domain.search import Match
from .domain.visibility import may_see
from .services import CaseServices
from .store.uow import UnitOfWork

CONFIRM = ("pour l'ouvrir quand même, confirmez-le", "to open it anyway, confirm it")
KnowsIdentity = Callable[[Actor, CaseState, UnitOfWork], bool]


def _title(title: Any, lang: str) -> str:
    if isinstance(title, dict):
        return str(title.get(lang) or title.get("fr") or next(iter(title.values()), ""))
    return str(title)


def open_cases_of(s: CaseServices, case: CaseState, uow: UnitOfWork) -> list[CaseState]:
    """The person's other open cases, those on ``case``'s route first."""
    others = [c for c in uow.cases.page(None, 50, Match(people=(case.person,)), closed_at=None)
              if c.id != case.id]
    return sorted(others, key=lambda c: c.route_id != case.route_id)


def no_duplicate(s: CaseServices, actor: Actor, case: CaseState, uow: UnitOfWork,
                 knows_identity: KnowsIdentity) -> None:
    """``DuplicateCase`` when ``case``'s person has another open case, on its route or
    elsewhere in the network, worded for what ``actor`` may know of it."""
    others = open_cases_of(s, case, uow)
    if not others:
        return
    same = [c for c in others if c.route_id == case.route_id]
    if same:
        _same_route(s, actor, same, uow)
    known = [c for c in others if may_see(actor, c, s.route_of(c, uow), s.registry)]
    coordination = s.policy.coordination
    if known:
        c = known[0]
        title = s.route_of(c, uow).title
        fr, en = _title(title, "fr"), _title(title, "en")
        raise DuplicateCase(
            f"cette personne a déjà un dossier ouvert dans le réseau, sur la route « {fr} » "
            f"(n° {c.id[:8]}, responsable {c.lead}) : plutôt qu'un second dossier, demandez "
            f"au responsable de faire participer votre institution, ou proposez-lui un "
            f"transfert ; {CONFIRM[0]} / this person already has an open case in the network, "
            f"on the route “{en}” (no. {c.id[:8]}, lead {c.lead}): rather than a second case, "
            f"ask the lead to let your institution take part, or propose a handoff; "
            f"{CONFIRM[1]}", case=c.id, lead=c.lead, route=c.route_id)
    told = [c for c in others if knows_identity(actor, c, uow)]
    if told:
        lead = told[0].lead
        raise DuplicateCase(
            f"cette personne a déjà un dossier ouvert dans le réseau, dont {lead} est "
            f"responsable : plutôt qu'un second dossier, demandez à {lead} de faire participer "
            f"votre institution, ou à la coordination ({coordination}) d'organiser un "
            f"transfert ; {CONFIRM[0]} / this person already has an open case in the network, "
            f"led by {lead}: rather than a second case, ask {lead} to let your institution "
            f"take part, or the coordination ({coordination}) to arrange a handoff; "
            f"{CONFIRM[1]}", lead=lead)
    raise DuplicateCase(
        f"cette personne a déjà un dossier ouvert dans le réseau, auquel votre institution ne "
        f"participe pas : plutôt qu'un second dossier, demandez à la coordination "
        f"({coordination}) de faire participer votre institution ou d'organiser un transfert ; "
        f"{CONFIRM[0]} / this person already has an open case in the network, in which your "
        f"institution does not take part: rather than a second case, ask the coordination "
        f"({coordination}) to bring your institution in or to arrange a handoff; {CONFIRM[1]}")


def _same_route(s: CaseServices, actor: Actor, same: list[CaseState], uow: UnitOfWork) -> None:
    """On the case's own route: named (number, lead) to a caller that takes part in it; to
    another, only that one exists and who can bring its institution in (the coordination)."""
    known = [c for c in same if may_see(actor, c, s.route_of(c, uow), s.registry)]
    if known:
        c = known[0]
        raise DuplicateCase(
            f"cette personne a déjà un dossier ouvert sur cette route (n° {c.id[:8]}, "
            f"responsable {c.lead}) : plutôt qu'un second dossier, demandez au responsable "
            f"de faire participer votre institution, ou proposez-lui un transfert ; "
            f"{CONFIRM[0]} / this person already has an open case on this route (no. "
            f"{c.id[:8]}, lead {c.lead}): rather than a second case, ask the lead to let your "
            f"institution take part, or propose a handoff; {CONFIRM[1]}",
            case=c.id, lead=c.lead)
    coordination = s.policy.coordination
    raise DuplicateCase(
        f"cette personne a déjà un dossier ouvert sur cette route, auquel votre institution "
        f"ne participe pas : plutôt qu'un second dossier, demandez à la coordination "
        f"({coordination}) de faire participer votre institution ou d'organiser un "
        f"transfert ; {CONFIRM[0]} / this person already has an open case on this route, in "
        f"which your institution does not take part: rather than a second case, ask the "
        f"coordination ({coordination}) to bring your institution in or to arrange a "
        f"handoff; {CONFIRM[1]}")
