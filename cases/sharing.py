"""Consents, and what each institution receives of a case on which legal basis.

A case's data fall in categories: ``identite`` (the person), and each route field's
``category`` (situation, medical, aide_sociale). An institution other than the lead sees a
category only on a legal basis (``conventions.data_sharing``); the first time it does, the
exchange is recorded with its basis, and statutory ones wait for the person to be informed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

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
from .domain.errors import MissingInput, NotAllowed, NotFound
from .services import CaseServices
from .store import ledger
from .store.repository import case_t
from .store.tables import ConsentRow, DataExchangeRow

consent_t = ConsentRow.__table__  # type: ignore[attr-defined]
exchange_t = DataExchangeRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Disclosure:
    shown: dict[str, str]  # category -> legal basis
    withheld: list[str]


class Sharing:
    def __init__(self, services: CaseServices) -> None:
        self.s = services

    def check_holder(self, actor: Actor, case: CaseState) -> None:
        if actor.role != Role.coordinator and actor.institution != case.lead:
            raise NotAllowed("seule l'institution responsable du cas ou la coordination "
                             "enregistre les consentements / only the lead or the "
                             "coordination")

    def consents(self, person: int) -> list[tuple[Consent, dict[str, Any]]]:
        with self.s.engine.connect() as conn:
            rows = conn.execute(select(consent_t).where(consent_t.c.person_id == person)
                                .order_by(consent_t.c.recorded_at))
            return [(Consent(r.id, tuple(r.recipients), tuple(r.categories), r.purpose,
                             r.valid_from, r.valid_until, r.revoked_on),
                     {"grantor": r.grantor, "recorded_by": r.recorded_by,
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
        today = self.s.clock().date()
        if valid_until is not None and valid_until < today:
            raise MissingInput("la validité se termine dans le passé / validity ends in the "
                               "past", field="valid_until")
        cid = uuid.uuid4().hex
        with self.s.engine.begin() as conn:
            conn.execute(insert(consent_t).values(
                id=cid, person_id=case.person, grantor=grantor, recipients=recipients,
                categories=categories, purpose=purpose, valid_from=today,
                valid_until=valid_until, revoked_on=None, recorded_by=actor.user,
                recorded_at=self.s.clock()))
            ledger.record(conn, consent_t, id=cid)
        return cid

    def revoke(self, actor: Actor, consent_id: str) -> None:
        """The coordination, or an institution that leads a case of the person, revokes."""
        with self.s.engine.begin() as conn:
            row = conn.execute(select(consent_t).where(consent_t.c.id == consent_id)).first()
            if row is None or row.revoked_on is not None:
                raise NotFound("consentement introuvable ou déjà révoqué / consent not found "
                               "or already revoked")
            leads = conn.execute(select(case_t.c.id).where(
                case_t.c.person_id == row.person_id,
                case_t.c.lead == actor.institution).limit(1)).first()
            if actor.role != Role.coordinator and leads is None:
                raise NotFound("consentement introuvable / consent not found")
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
        consents = [c for c, _ in self.consents(case.person)]
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
        with self.s.engine.begin() as conn:
            done = conn.execute(update(exchange_t).where(
                exchange_t.c.id == exchange_id, exchange_t.c.case_id == case.id)
                .values(informed_on=on))
            ledger.record(conn, exchange_t, id=exchange_id, case_id=case.id)
        if done.rowcount != 1:
            raise NotFound("échange introuvable / exchange not found")
