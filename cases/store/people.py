"""People, found by AVS number: a second case of the same person links to the same row."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from cases.domain.person import Person

from .tables import PersonRow

person_t = PersonRow.__table__  # type: ignore[attr-defined]


def person_id(conn: Connection, p: Person) -> int:
    found = conn.execute(select(person_t.c.id).where(person_t.c.avs == p.avs)).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(insert(person_t).values(
        avs=p.avs, official_name=p.official_name, first_name=p.first_name,
        birth_date=p.birth_date, sex=p.sex, nationality=p.nationality))
    return int(result.inserted_primary_key[0])  # type: ignore[index]
