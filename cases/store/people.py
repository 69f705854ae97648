"""People, found by AVS number: a second case of the same person links to the same row."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from cases.domain.person import Person

from . import ledger
from .tables import PersonRow

person_t = PersonRow.__table__  # type: ignore[attr-defined]


def person_id(conn: Connection, p: Person) -> int:
    """The person's row; a contact given again (e-mail, phone, address) replaces the old one."""
    found = conn.execute(select(person_t.c.id).where(person_t.c.avs == p.avs)).scalar()
    contact = {k: v for k, v in (("email", p.email), ("phone", p.phone),
                                 ("address", p.address)) if v is not None}
    if found is not None:
        if contact:
            conn.execute(update(person_t).where(person_t.c.id == found).values(contact))
            ledger.record(conn, person_t, id=found)
        return int(found)
    row = {"avs": p.avs, "official_name": p.official_name, "first_name": p.first_name,
           "birth_date": p.birth_date, "sex": p.sex, "nationality": p.nationality, **contact}
    result = conn.execute(insert(person_t).values(row))
    made = int(result.inserted_primary_key[0])  # type: ignore[index]
    ledger.append(conn, "person", {"email": None, "phone": None, "address": None, **row,
                                   "id": made})
    return made
