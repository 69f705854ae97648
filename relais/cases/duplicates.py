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

from relais.i18n import bi

from .domain.actors import Actor
from .domain.case import CaseState
from .domain.errors import DuplicateCase
from .domain.search import Match
from .domain.visibility import may_see
from .services import CaseServices
from .store.uow import UnitOfWork

CONFIRM = ("pour l'ouvrir quand même, confirmez-le", "to open it anyway, confirm it")
_CONFIRM = bi(*CONFIRM)
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
        raise DuplicateCase(bi(
            "cette personne a déjà un dossier ouvert dans le réseau, sur la route « %(route)s » "
            "(n° %(no)s, responsable %(lead)s) : plutôt qu'un second dossier, demandez au "
            "responsable de faire participer votre institution, ou proposez-lui un transfert ; "
            "%(confirm)s", "this person already has an open case in the network, on the "
            "route “%(route)s” (no. %(no)s, lead %(lead)s): rather than a second case, ask the "
            "lead to let your institution take part, or propose a handoff; %(confirm)s",
            route=bi(fr.replace("%", "%%"), en.replace("%", "%%")), no=c.id[:8], lead=c.lead,
            confirm=_CONFIRM), case=c.id, lead=c.lead, route=c.route_id)
    told = [c for c in others if knows_identity(actor, c, uow)]
    if told:
        lead = told[0].lead
        raise DuplicateCase(bi(
            "cette personne a déjà un dossier ouvert dans le réseau, dont %(lead)s est "
            "responsable : plutôt qu'un second dossier, demandez à %(lead)s de faire participer "
            "votre institution, ou à la coordination (%(coordination)s) d'organiser un "
            "transfert ; %(confirm)s", "this person already has an open case in the network, "
            "led by %(lead)s: rather than a second case, ask %(lead)s to let your institution "
            "take part, or the coordination (%(coordination)s) to arrange a handoff; "
            "%(confirm)s", lead=lead, coordination=coordination, confirm=_CONFIRM), lead=lead)
    raise DuplicateCase(bi(
        "cette personne a déjà un dossier ouvert dans le réseau, auquel votre institution ne "
        "participe pas : plutôt qu'un second dossier, demandez à la coordination "
        "(%(coordination)s) de faire participer votre institution ou d'organiser un "
        "transfert ; %(confirm)s", "this person already has an open case in the network, in "
        "which your institution does not take part: rather than a second case, ask the "
        "coordination (%(coordination)s) to bring your institution in or to arrange a "
        "handoff; %(confirm)s", coordination=coordination, confirm=_CONFIRM))


def _same_route(s: CaseServices, actor: Actor, same: list[CaseState], uow: UnitOfWork) -> None:
    """On the case's own route: named (number, lead) to a caller that takes part in it; to
    another, only that one exists and who can bring its institution in (the coordination)."""
    known = [c for c in same if may_see(actor, c, s.route_of(c, uow), s.registry)]
    if known:
        c = known[0]
        raise DuplicateCase(bi(
            "cette personne a déjà un dossier ouvert sur cette route (n° %(no)s, responsable "
            "%(lead)s) : plutôt qu'un second dossier, demandez au responsable de faire "
            "participer votre institution, ou proposez-lui un transfert ; %(confirm)s",
            "this person already has an open case on this route (no. %(no)s, lead %(lead)s): "
            "rather than a second case, ask the lead to let your institution take part, or "
            "propose a handoff; %(confirm)s", no=c.id[:8], lead=c.lead, confirm=_CONFIRM),
            case=c.id, lead=c.lead)
    coordination = s.policy.coordination
    raise DuplicateCase(bi(
        "cette personne a déjà un dossier ouvert sur cette route, auquel votre institution "
        "ne participe pas : plutôt qu'un second dossier, demandez à la coordination "
        "(%(coordination)s) de faire participer votre institution ou d'organiser un "
        "transfert ; %(confirm)s", "this person already has an open case on this route, in "
        "which your institution does not take part: rather than a second case, ask the "
        "coordination (%(coordination)s) to bring your institution in or to arrange a "
        "handoff; %(confirm)s", coordination=coordination, confirm=_CONFIRM))
