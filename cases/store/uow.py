"""The unit of work: one connection, one transaction, and every repository a use case
touches, bound to them (cosmicpython's ``with uow:``).

    with unit_of_work(engine) as uow:
        case = uow.cases.get(case_id)
        uow.reads.add(...)
        uow.exchanges.add(...)

A use case that runs inside another's unit passes it on (``within=``): the read of a case,
its disclosure, the exchanges it records and the read record are one transaction, so that
either all of them are on record or none is. The transaction commits when the block ends
and rolls back when it raises. On SQLite a writing unit begins IMMEDIATE (``relais.db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from . import WRITE
from .catalogue import CatalogueStore
from .consents import ConsentStore, ExchangeStore
from .documents import Documents
from .people import PeopleStore
from .reads import ReadLog
from .repository import CaseRepository
from .steering import SteeringStore


class UnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cases = CaseRepository(conn)
        self.people = PeopleStore(conn)
        self.consents = ConsentStore(conn)
        self.exchanges = ExchangeStore(conn)
        self.documents = Documents(conn)
        self.reads = ReadLog(conn)
        self.catalogue = CatalogueStore(conn)
        self.steering = SteeringStore(conn)


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True,
                 within: UnitOfWork | None = None) -> Iterator[UnitOfWork]:
    """A new unit on ``engine``, or ``within``, the caller's, when it has one."""
    if within is not None:
        yield within
        return
    with engine.connect() as conn:
        if write:
            conn.execution_options(**WRITE)
        with conn.begin():
            yield UnitOfWork(conn)
