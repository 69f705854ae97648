"""People, found by AVS number, and the contact each case holds for its person.

The person row is shared by every case of the person: a referral that names a known AVS
number must give the same identity, and changes nothing there. How to reach the person
(e-mail, phone, address) is held per case, as the case's institution knows it.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from relais.cases.domain.errors import IdentityMismatch
from relais.cases.domain.person import Person
from relais.cases.domain.search import name_key

from . import ledger
from .tables import contact_t, person_t

CONTACT = ("email", "phone", "address")


def _same_name(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())
    return norm(a) == norm(b)


def person_id(conn: Connection, p: Person) -> int:
    """The person's row: found by AVS number when the identity matches, else created. The
    answer to a mismatch says nothing of what is stored."""
    row = conn.execute(select(person_t.c.id, person_t.c.official_name, person_t.c.first_name,
                              person_t.c.birth_date).where(person_t.c.avs == p.avs)).first()
    if row is not None:
        if not (_same_name(row.official_name, p.official_name)
                and _same_name(row.first_name, p.first_name) and row.birth_date == p.birth_date):
            raise IdentityMismatch(
                "l'identité donnée ne correspond pas à ce numéro AVS : vérifiez le numéro, le "
                "nom, le prénom et la date de naissance / the identity given does not match "
                "this AVS number: check the number, names and birth date", field="person")
        return int(row.id)
    values: dict[str, Any] = {
        "avs": p.avs, "official_name": p.official_name, "first_name": p.first_name,
        "birth_date": p.birth_date, "sex": p.sex, "nationality": p.nationality}
    result = conn.execute(insert(person_t).values(
        {**values, "search_key": name_key(p.official_name, p.first_name)}))
    made = int(result.inserted_primary_key[0])  # type: ignore[index]
    # the contact columns stay empty: a case holds its own (migration 0011c)
    ledger.append(conn, "person", {**values, "email": None, "phone": None, "address": None,
                                   "id": made})
    return made


def contact_of(p: Person) -> dict[str, Any]:
    return {"email": p.email, "phone": p.phone, "address": p.address}


def hold_contact(conn: Connection, case_id: str, contact: dict[str, Any], *, at: datetime,
                 by: str) -> None:
    """The case's contact for its person, written or replaced (in the event's transaction)."""
    values = {k: contact.get(k) for k in CONTACT}
    done = conn.execute(update(contact_t).where(contact_t.c.case_id == case_id)
                        .values(**values, changed_at=at, changed_by=by))
    if done.rowcount == 0:
        conn.execute(insert(contact_t).values(case_id=case_id, **values, changed_at=at,
                                              changed_by=by))
    ledger.record(conn, contact_t, case_id=case_id)


class PeopleStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def identify(self, p: Person) -> int:
        """The id of the person's row, found by AVS number or created (``person_id``)."""
        return person_id(self.conn, p)

    def hold_contact(self, case_id: str, contact: dict[str, Any], *, at: datetime,
                     by: str) -> None:
        """The case's contact for its person, written or replaced (``hold_contact``)."""
        hold_contact(self.conn, case_id, contact, at=at, by=by)

    def matching(self, words: list[str]) -> list[int]:
        """The people whose names have a word beginning with each of ``words`` (folded,
        ``cases.domain.search``: plain ASCII letters and digits, nothing LIKE reads)."""
        if not words:
            return []
        query = select(person_t.c.id).where(
            *(person_t.c.search_key.like(f"% {w}%") for w in words))
        return [int(r.id) for r in self.conn.execute(query)]

    def by_avs(self, avs: str) -> list[int]:
        """The person with this AVS number (13 digits), if known."""
        return [int(r.id) for r in self.conn.execute(
            select(person_t.c.id).where(person_t.c.avs == avs))]

    def of_case(self, person_id: int, case_id: str) -> Person:
        """The person of a case: the shared identity, and the contact this case holds."""
        r = self.conn.execute(select(person_t).where(person_t.c.id == person_id)).one()
        contact = contact_held(self.conn, case_id)
        born = r.birth_date
        return Person(r.avs, r.official_name, r.first_name,
                      born if isinstance(born, date) else date.fromisoformat(born), r.sex,
                      r.nationality, contact["email"], contact["phone"], contact["address"])


def contact_held(conn: Connection, case_id: str) -> dict[str, Any]:
    row = conn.execute(select(contact_t).where(contact_t.c.case_id == case_id)).first()
    return {k: getattr(row, k) for k in CONTACT} if row is not None else dict.fromkeys(CONTACT)
