"""Consents, and what each institution receives of a case on which legal basis.

A case's data fall in categories: ``identite`` (the person), and each route field's
``category`` (situation, medical, aide_sociale). An institution other than the lead sees a
category only on a legal basis (``conventions.data_sharing``); the first time it does, the
exchange is recorded with its basis, and statutory ones wait for the person to be informed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from relais.conventions.data_sharing import (
    CATEGORIES,
    OWN,
    Consent,
    informed_afterwards,
    legal_basis,
)
from relais.i18n import bi
from relais.institutions.calendar import calendar
from relais.institutions.registry import Role

from .domain.actors import Actor
from .domain.case import CaseState
from .domain.consent import network_recipients
from .domain.errors import Conflict, MissingInput, NotAllowed, NotFound
from .domain.person import NOT_A_NAME, is_a_name
from .domain.visibility import takes_part
from .duplicates import no_duplicate
from .services import CaseServices, Outcome
from .store.uow import UnitOfWork

NETWORK_PURPOSE = ("coordination de ce cas au sein du réseau CII / coordination of this "
                   "case within the CII network")
NETWORK_CATEGORIES = ("identite", "situation")


@dataclass(frozen=True)
class ReferralConsent:
    """The person's consent to the CII network, as the canton's form gives it at the
    referral: by default in favour of the route's institutions and the coordination
    (``network_recipients``), for the coordination of this case, identity and situation."""

    grantor: str
    categories: tuple[str, ...] = NETWORK_CATEGORIES
    recipients: tuple[str, ...] = ()  # () = the network: the route's institutions, CII
    purpose: str = NETWORK_PURPOSE
    valid_until: date | None = None


@dataclass(frozen=True)
class Disclosure:
    shown: dict[str, str]  # category -> legal basis
    withheld: list[str]


class Sharing:
    def __init__(self, services: CaseServices) -> None:
        self.s = services

    def check_holder(self, actor: Actor, case: CaseState) -> None:
        """Who records a consent on ``case``: an institution that takes part in it (it
        received the person's signed form for this case), or the coordination."""
        route = self.s.route_of(case)
        if actor.role != Role.coordinator and (
                actor.role != Role.case_manager
                or not takes_part(actor.institution, case, route, self.s.registry)):
            raise NotAllowed("seule une institution partenaire du cas ou la coordination "
                             "enregistre un consentement / only an institution taking part in "
                             "the case, or the coordination, records consents")

    def consents(self, case: CaseState, within: UnitOfWork | None = None
                 ) -> list[tuple[Consent, dict[str, Any]]]:
        """The consents recorded for ``case``: a consent recorded on another case, even of
        the same person, opens nothing here."""
        with self.s.units(write=False, within=within) as uow:
            return uow.consents.of_case(case.id)

    def record(self, actor: Actor, case: CaseState, *, grantor: str, recipients: list[str],
               categories: list[str], purpose: str, valid_until: date | None,
               within: UnitOfWork | None = None) -> str:
        self.check_holder(actor, case)
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown or not categories:
            raise MissingInput(f"catégories possibles : {', '.join(CATEGORIES)} / categories",
                               field="categories")
        strangers = [r for r in recipients if not self.s.registry.knows(r)]
        if strangers or not recipients:
            raise MissingInput(f"destinataires inconnus : {', '.join(strangers) or '-'} / "
                               f"unknown recipients", field="recipients")
        if self.s.registry.matches(actor.institution, recipients):
            raise NotAllowed("un consentement ne s'enregistre pas en faveur de sa propre "
                             "institution / a consent is never recorded in favour of the "
                             "recording institution", field="recipients")
        today = self.s.today()
        if valid_until is not None and valid_until < today:
            raise MissingInput("la validité se termine dans le passé / validity ends in the "
                               "past", field="valid_until")
        cid = uuid.uuid4().hex
        with self.s.units(within=within) as uow:
            uow.consents.add({
                "id": cid, "person_id": case.person, "case_id": case.id, "grantor": grantor,
                "recipients": recipients, "categories": categories, "purpose": purpose,
                "valid_from": today, "valid_until": valid_until, "revoked_on": None,
                "recorded_by": actor.user, "recorded_by_institution": actor.institution,
                "recorded_at": self.s.clock()})
        return cid

    def refer(self, actor: Actor, *, route: str, person: dict[str, Any],
              consent: ReferralConsent | None, fields: dict[str, Any] | None = None,
              reason: str | None = None, version: int | None = None,
              confirm_duplicate: bool = True,
              within: UnitOfWork | None = None) -> Outcome:
        """A referral: the case opened and, when the person signed the network's form, its
        consent recorded by the referring institution, in one unit (all or nothing). An
        error about the consent names its field as ``consent.<field>``. Unless
        ``confirm_duplicate``, a person with an open case on the route, or elsewhere in the
        network, is refused (``DuplicateCase``, nothing opened; ``duplicates``), once their
        identity matched."""
        with self.s.units(within=within) as uow:
            out = self.s.open_case(route=route, person=person, actor=actor, fields=fields,
                                   reason=reason, version=version, within=uow)
            if not confirm_duplicate:
                no_duplicate(self.s, actor, out.case, uow,
                             lambda a, c, u: self.may_know(a, c, "identite", u))
            if consent is None:
                return out
            if not (0 < len(consent.grantor.strip()) <= 200 and is_a_name(consent.grantor)):
                raise MissingInput(NOT_A_NAME, field="consent.grantor")
            recipients = list(consent.recipients) or network_recipients(
                self.s.route_of(out.case, uow), actor.institution, self.s.registry,
                self.s.policy.coordination)
            try:
                self.record(actor, out.case, grantor=consent.grantor.strip(),
                            recipients=recipients, categories=list(consent.categories),
                            purpose=consent.purpose, valid_until=consent.valid_until,
                            within=uow)
            except (MissingInput, NotAllowed) as exc:
                field = exc.details.get("field")
                raise type(exc)(exc.message, **{**exc.details, "field": f"consent.{field}"}) \
                    from None
        return out

    def revoke(self, actor: Actor, consent_id: str, within: UnitOfWork | None = None) -> None:
        """The person revokes through the institution that recorded the consent (a consent
        recorded before institutions were noted: through the coordination)."""
        with self.s.units(within=within) as uow:
            found = uow.consents.recorder(consent_id)
            if found is None or not (found[0] == actor.institution or (
                    found[0] is None and actor.role == Role.coordinator)):
                raise NotFound("consentement introuvable / consent not found")
            if found[1] is not None:
                raise Conflict("consentement déjà révoqué / consent already revoked")
            uow.consents.revoke(consent_id, self.s.today())

    def disclose(self, actor: Actor, case: CaseState, within: UnitOfWork | None = None
                 ) -> Disclosure:
        """What ``actor`` may see of ``case``; records the first exchange of each category
        in the same unit of work as the read it serves."""
        reg = self.s.registry
        holder, recipient = reg.get(case.lead), reg.get(actor.institution)
        if holder.code == recipient.code:  # the lead reads its own file: nothing to check
            return Disclosure(dict.fromkeys(CATEGORIES, OWN), [])
        today = self.s.today()
        with self.s.units(write=False, within=within) as uow:
            consents = [c for c, _ in uow.consents.of_case(case.id)]
            shown: dict[str, str] = {}
            for category in CATEGORIES:
                basis = legal_basis(recipient, holder, category, consents, today)
                if basis is not None:
                    shown[category] = basis
            wanted = {(c, b) for c, b in shown.items() if b != OWN}
            new = sorted(wanted - uow.exchanges.known(case.id, recipient.code)) if wanted \
                else []
        if new:  # a first disclosure: written (on SQLite, the write lock taken) only then
            with self.s.units(within=within) as uow:
                for category, basis in new:
                    uow.exchanges.add(case_id=case.id, recipient=recipient.code,
                                      category=category, basis=basis, at=self.s.clock(),
                                      inform_person=informed_afterwards(basis))
        return Disclosure(shown, [c for c in CATEGORIES if c not in shown])

    def may_know(self, actor: Actor, case: CaseState, category: str,
                 within: UnitOfWork | None = None) -> bool:
        """Whether ``actor`` has a basis to see ``category`` of ``case`` (as ``disclose``
        decides), nothing recorded: a search asks it of the cases it would show."""
        reg = self.s.registry
        holder, recipient = reg.get(case.lead), reg.get(actor.institution)
        if holder.code == recipient.code:
            return True
        with self.s.units(write=False, within=within) as uow:
            consents = [c for c, _ in uow.consents.of_case(case.id)]
        return legal_basis(recipient, holder, category, consents,
                           self.s.today()) is not None

    def for_letter(self, case: CaseState, recipient: str, categories: Collection[str],
                   within: UnitOfWork | None = None) -> Disclosure:
        """What a letter to institution ``recipient`` may carry of ``categories`` of
        ``case``, each on its legal basis as for a read (``disclose``); the exchange of each
        category it carries recorded the first time. The consents are read only when a
        statute does not suffice: a notice that carries nothing of the person costs
        nothing."""
        reg = self.s.registry
        holder, to = reg.get(case.lead), reg.get(recipient)
        asked = [c for c in CATEGORIES if c in categories]
        if holder.code == to.code:
            return Disclosure(dict.fromkeys(asked, OWN), [])
        today = self.s.today()
        shown: dict[str, str] = {}
        consents: list[Consent] | None = None
        for category in asked:
            basis = legal_basis(to, holder, category, (), today)
            if basis is None:
                if consents is None:
                    consents = [c for c, _ in self.consents(case, within)]
                basis = legal_basis(to, holder, category, consents, today)
            if basis is not None:
                shown[category] = basis
        if shown:
            with self.s.units(within=within) as uow:
                for category, basis in sorted(
                        set(shown.items()) - uow.exchanges.known(case.id, to.code)):
                    uow.exchanges.add(case_id=case.id, recipient=to.code, category=category,
                                      basis=basis, at=self.s.clock(),
                                      inform_person=informed_afterwards(basis))
        return Disclosure(shown, [c for c in asked if c not in shown])

    def exchanges(self, case_id: str, within: UnitOfWork | None = None
                  ) -> list[dict[str, Any]]:
        with self.s.units(write=False, within=within) as uow:
            return uow.exchanges.of_case(case_id)

    def mark_informed(self, case: CaseState, exchange_id: int, on: date,
                      within: UnitOfWork | None = None) -> None:
        """The day the person was told: not before the exchange, not after today (days of
        the route's calendar: an ``on`` of 0001-01-01 or 9999-12-31 was taken as it came)."""
        cal = calendar(self.s.route_of(case).calendar)
        with self.s.units(within=within) as uow:
            at = uow.exchanges.at(case.id, exchange_id)
            if at is None:
                raise NotFound("échange introuvable / exchange not found")
            first, last = cal.today(at), cal.today(self.s.clock())
            if not first <= on <= last:
                raise MissingInput(bi("date d'information hors de la période possible "
                                      "(%(first)s – %(last)s)",
                                      "informed on a day outside %(first)s – %(last)s",
                                      first=first, last=last), field="on")
            uow.exchanges.informed(case.id, exchange_id, on)

