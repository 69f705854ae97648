"""What an orchestrated action reads and writes beside the event that records its result:
the case as the event that queued it left it, and the ledger of its visible effects.

Each call stands alone and is one statement (``SINGLE``: on SQLite no BEGIN nor COMMIT
around it): the read of the case, its queuing event, its person and the contact the case
holds is one join; an effect is recorded by one INSERT, durable before the next effect is
attempted, so that a crash repeats at most the effect that was under way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError

from relais.cases.domain.case import CaseState
from relais.cases.domain.events import Event
from relais.cases.domain.person import Person
from relais.cases.store.tables import case_t, contact_t, effect_t, event_t, person_t

from . import SINGLE
from .codec import case_from, event_from

_PERSON = ("avs", "official_name", "first_name", "birth_date", "sex", "nationality")
_CONTACT = ("email", "phone", "address")


@contextmanager
def _single(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(**SINGLE)
        with conn.begin():
            yield conn


def _case_at_query() -> Any:
    return (select(case_t, *(c.label(f"ev_{c.name}") for c in event_t.c),
                   *(person_t.c[n].label(f"p_{n}") for n in _PERSON),
                   *(contact_t.c[n].label(f"c_{n}") for n in _CONTACT))
            .join(event_t, event_t.c.case_id == case_t.c.id)
            .join(person_t, person_t.c.id == case_t.c.person_id)
            .outerjoin(contact_t, contact_t.c.case_id == case_t.c.id))


def _prefixed(row: Row[Any], prefix: str) -> SimpleNamespace:
    return SimpleNamespace(**{k.removeprefix(prefix): v for k, v in row._mapping.items()
                              if k.startswith(prefix)})


def _person(row: Row[Any]) -> Person:
    p, c = _prefixed(row, "p_"), _prefixed(row, "c_")
    born = p.birth_date
    return Person(p.avs, p.official_name, p.first_name,
                  born if isinstance(born, date) else date.fromisoformat(born), p.sex,
                  p.nationality, c.email, c.phone, c.address)


class ActionRows:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def case_at(self, case_id: str, seq: int) -> tuple[CaseState, Event, Person] | None:
        """The case row as it stands now, event ``seq`` of its history and its person (the
        shared identity, the contact the case holds), in one statement; None when the case
        has no such event."""
        with _single(self.engine) as conn:
            row = conn.execute(_case_at_query().where(case_t.c.id == case_id,
                                                      event_t.c.seq == seq)).first()
        if row is None:
            return None
        return case_from(row), event_from(_prefixed(row, "ev_")), _person(row)

    def events_after(self, case_id: str, seq: int) -> list[Event]:
        with _single(self.engine) as conn:
            return [event_from(r) for r in conn.execute(
                select(event_t).where(event_t.c.case_id == case_id, event_t.c.seq > seq)
                .order_by(event_t.c.seq))]

    def effects(self, key: str) -> dict[str, dict[str, Any]]:
        """The effects on record of the action ``key``: its own (the action is done) and
        each of its visible effects (``key/...``), by key; one range of the primary key."""
        with _single(self.engine) as conn:
            rows = conn.execute(select(effect_t.c.idempotency_key, effect_t.c.result).where(
                or_(effect_t.c.idempotency_key == key,
                    and_(effect_t.c.idempotency_key > f"{key}/",
                         effect_t.c.idempotency_key < f"{key}0"))))  # "0" follows "/"
            return {k: dict(result) for k, result in rows}

    def add_effect(self, key: str, *, action: str, case_id: str, result: dict[str, Any],
                   at: datetime) -> dict[str, Any]:
        """Record a visible effect; the result on record: this one, or the one another
        worker recorded first under the same key (nothing is overwritten)."""
        try:
            with _single(self.engine) as conn:
                conn.execute(insert(effect_t).values(idempotency_key=key, action=action,
                                                     case_id=case_id, at=at, result=result))
            return result
        except IntegrityError:
            with _single(self.engine) as conn:
                found = conn.execute(select(effect_t.c.result)
                                     .where(effect_t.c.idempotency_key == key)).scalar_one()
            return dict(found)
