"""Consents and the exchanges they (or the law) allowed: the store's SQL, each write beside its
ledger record, in the caller's unit of work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from relais.conventions.data_sharing import Consent

from . import ledger
from .codec import aware
from .tables import consent_t, exchange_t


class ConsentStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_case(self, case_id: str) -> list[tuple[Consent, dict[str, Any]]]:
        rows = self.conn.execute(select(consent_t).where(consent_t.c.case_id == case_id)
                                 .order_by(consent_t.c.recorded_at, consent_t.c.id))
        return [(Consent(r.id, tuple(r.recipients), tuple(r.categories), r.purpose,
                         r.valid_from, r.valid_until, r.revoked_on,
                         r.recorded_by_institution),
                 {"grantor": r.grantor, "recorded_by": r.recorded_by,
                  "institution": r.recorded_by_institution, "recorded_at": r.recorded_at})
                for r in rows]

    def add(self, row: dict[str, Any]) -> None:
        self.conn.execute(insert(consent_t).values(row))
        ledger.record(self.conn, consent_t, id=row["id"])

    def recorder(self, consent_id: str) -> tuple[str | None, date | None] | None:
        """(the recording institution, revoked on) of a consent; None when unknown."""
        row = self.conn.execute(select(consent_t.c.recorded_by_institution,
                                       consent_t.c.revoked_on)
                                .where(consent_t.c.id == consent_id)).first()
        return None if row is None else (row.recorded_by_institution, row.revoked_on)

    def revoke(self, consent_id: str, on: date) -> None:
        self.conn.execute(update(consent_t).where(consent_t.c.id == consent_id)
                          .values(revoked_on=on))
        ledger.record(self.conn, consent_t, id=consent_id)


class ExchangeStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known(self, case_id: str, recipient: str) -> set[tuple[str, str]]:
        return {(r.category, r.legal_basis) for r in self.conn.execute(
            select(exchange_t.c.category, exchange_t.c.legal_basis).where(
                exchange_t.c.case_id == case_id, exchange_t.c.recipient == recipient))}

    def add(self, *, case_id: str, recipient: str, category: str, basis: str, at: datetime,
            inform_person: bool) -> None:
        """The first disclosure of ``category`` to ``recipient``; a concurrent reader who
        recorded it first wins (a savepoint keeps the caller's transaction alive)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(exchange_t).values(
                    case_id=case_id, recipient=recipient, category=category,
                    legal_basis=basis, at=at, inform_person=inform_person, informed_on=None))
                ledger.record(self.conn, exchange_t, case_id=case_id, recipient=recipient,
                              category=category, legal_basis=basis)
        except IntegrityError:
            pass  # recorded meanwhile: the first disclosure counts

    def of_case(self, case_id: str) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(
            select(exchange_t).where(exchange_t.c.case_id == case_id)
            .order_by(exchange_t.c.at, exchange_t.c.id))]

    def at(self, case_id: str, exchange_id: int) -> datetime | None:
        found: datetime | None = aware(self.conn.execute(select(exchange_t.c.at).where(
            exchange_t.c.id == exchange_id, exchange_t.c.case_id == case_id)).scalar())
        return found

    def informed(self, case_id: str, exchange_id: int, on: date) -> None:
        self.conn.execute(update(exchange_t).where(exchange_t.c.id == exchange_id)
                          .values(informed_on=on))
        ledger.record(self.conn, exchange_t, id=exchange_id, case_id=case_id)
