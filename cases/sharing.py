"""Consents, and what each institution receives of a case on which legal basis.

A case's data fall in categories: ``identite`` (the person), and each route field's
``category`` (situation, medical, aide_sociale). An institution other than the lead sees a
category only on a legal basis (``conventions.data_sharing``); the first time it does, the
exchange is recorded with its basis, and statutory ones wait for the person to be informed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from conventions.data_sharing import (
    CATEGORIES,
    OWN,
    Consent,
    informed_afterwards,
    legal_basis,
)
from institutions.registry import Role

from .domain.actors import Actor
from .domain.case import CaseState
from .domain.errors import Conflict, MissingInput, NotAllowed, NotFound
from .domain.visibility import takes_part
from .services import CaseServices
from .store import ledger
from .store.tables import ConsentRow, DataExchangeRow

consent_t = ConsentRow.__table__  # type: ignore[attr-defined]
_SWISS = ZoneInfo("Europe/Zurich")
exchange_t = DataExchangeRow.__table__  # type: ignore[attr-defined]


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

    def consents(self, case: CaseState) -> list[tuple[Consent, dict[str, Any]]]:
        """The consents recorded for ``case``: a consent recorded on another case, even of
        the same person, opens nothing here."""
        with self.s.engine.connect() as conn:
            rows = conn.execute(select(consent_t).where(consent_t.c.case_id == case.id)
                                .order_by(consent_t.c.recorded_at, consent_t.c.id))
            return [(Consent(r.id, tuple(r.recipients), tuple(r.categories), r.purpose,
                             r.valid_from, r.valid_until, r.revoked_on),
                     {"grantor": r.grantor, "recorded_by": r.recorded_by,
                      "institution": r.recorded_by_institution,
                      "recorded_at": r.recorded_at}) for r in rows]

    def record(self, actor: Actor, case: CaseState, *, grantor: str, recipients: list[str],
               categories: list[str], purpose: str, valid_until: date | None) -> str:
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
        today = self.s.clock().date()
        if valid_until is not None and valid_until < today:
            raise MissingInput("la validité se termine dans le passé / validity ends in the "
                               "past", field="valid_until")
        cid = uuid.uuid4().hex
        with self.s.engine.begin() as conn:
            conn.execute(insert(consent_t).values(
                id=cid, person_id=case.person, case_id=case.id, grantor=grantor,
                recipients=recipients, categories=categories, purpose=purpose,
                valid_from=today, valid_until=valid_until, revoked_on=None,
                recorded_by=actor.user, recorded_by_institution=actor.institution,
                recorded_at=self.s.clock()))
            ledger.record(conn, consent_t, id=cid)
        return cid

    def revoke(self, actor: Actor, consent_id: str) -> None:
        """The person revokes through the institution that recorded the consent (a consent
        recorded before institutions were noted: through the coordination)."""
        with self.s.engine.begin() as conn:
            row = conn.execute(select(consent_t).where(consent_t.c.id == consent_id)).first()
            mine = row is not None and (
                row.recorded_by_institution == actor.institution
                or (row.recorded_by_institution is None and actor.role == Role.coordinator))
            if row is None or not mine:
                raise NotFound("consentement introuvable / consent not found")
            if row.revoked_on is not None:
                raise Conflict("consentement déjà révoqué / consent already revoked")
            conn.execute(update(consent_t).where(consent_t.c.id == consent_id)
                         .values(revoked_on=self.s.clock().date()))
            ledger.record(conn, consent_t, id=consent_id)

    def disclose(self, actor: Actor, case: CaseState) -> Disclosure:
        """What ``actor`` may see of ``case``; records the first exchange of each category."""
        reg = self.s.registry
        holder, recipient = reg.get(case.lead), reg.get(actor.institution)
        if holder.code == recipient.code:  # the lead reads its own file: nothing to check
            return Disclosure(dict.fromkeys(CATEGORIES, OWN), [])
        today = self.s.clock().date()
        consents = [c for c, _ in self.consents(case)]
        shown: dict[str, str] = {}
        for category in CATEGORIES:
            basis = legal_basis(recipient, holder, category, consents, today)
            if basis is not None:
                shown[category] = basis
        self._record_exchanges(case, recipient.code, shown)
        return Disclosure(shown, [c for c in CATEGORIES if c not in shown])

    def _record_exchanges(self, case: CaseState, recipient: str, shown: dict[str, str]) -> None:
        """Record the first disclosure of each category (the lead's own file is none)."""
        wanted = {(c, b) for c, b in shown.items() if b != OWN}
        if not wanted:
            return
        with self.s.engine.connect() as conn:
            known = {(r.category, r.legal_basis) for r in conn.execute(
                select(exchange_t.c.category, exchange_t.c.legal_basis).where(
                    exchange_t.c.case_id == case.id, exchange_t.c.recipient == recipient))}
        for category, basis in sorted(wanted - known):
            try:
                with self.s.engine.begin() as conn:
                    conn.execute(insert(exchange_t).values(
                        case_id=case.id, recipient=recipient, category=category,
                        legal_basis=basis, at=self.s.clock(),
                        inform_person=informed_afterwards(basis), informed_on=None))
                    ledger.record(conn, exchange_t, case_id=case.id, recipient=recipient,
                                  category=category, legal_basis=basis)
            except IntegrityError:
                pass  # a concurrent read recorded it first: the first disclosure counts

    def exchanges(self, case_id: str) -> list[dict[str, Any]]:
        with self.s.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(exchange_t).where(exchange_t.c.case_id == case_id)
                .order_by(exchange_t.c.at, exchange_t.c.id))]

    def mark_informed(self, case: CaseState, exchange_id: int, on: date) -> None:
        """The day the person was told: not before the exchange, not after today (Swiss
        days: an ``on`` of 0001-01-01 or 9999-12-31 was taken as it came)."""
        with self.s.engine.begin() as conn:
            at = conn.execute(select(exchange_t.c.at).where(
                exchange_t.c.id == exchange_id, exchange_t.c.case_id == case.id)).scalar()
            if at is None:
                raise NotFound("échange introuvable / exchange not found")
            first, last = _swiss_day(at), _swiss_day(self.s.clock())
            if not first <= on <= last:
                raise MissingInput(f"date d'information hors de la période possible ({first} – "
                                   f"{last}) / informed on a day outside {first} – {last}",
                                   field="on")
            conn.execute(update(exchange_t).where(exchange_t.c.id == exchange_id)
                         .values(informed_on=on))
            ledger.record(conn, exchange_t, id=exchange_id, case_id=case.id)


def _swiss_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives it naive
    return aware.astimezone(_SWISS).date()
