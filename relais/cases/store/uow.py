"""The unit of work: one connection, one transaction, and every repository a use case
touches, bound to them (cosmicpython's ``with uow:``).

    with services.units() as uow:
        case = uow.cases.get(case_id)
        uow.reads.add(...)
        uow.exchanges.add(...)

A use case that runs inside another's unit passes it on (``within=``): the read of a case,
its disclosure, the exchanges it records and the read record are one transaction, so that
either all of them are on record or none is. The transaction commits when the block ends
and rolls back when it raises; a unique key taken meanwhile by a concurrent transaction
(the IntegrityError of its commit or of a statement) reaches the caller as StaleVersion:
it lost the race, and may look again. On SQLite a writing unit begins IMMEDIATE
(``relais.db``), a reading one DEFERRED.

``UnitOfWork`` and ``Units`` are what the services rely on; ``SqlUnitOfWork`` and
``SqlUnits`` the database's, ``cases.store.memory`` the in-memory fakes of tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeAlias

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from relais.cases.domain.errors import StaleVersion
from relais.institutions.registry import default_registry

from . import WRITE, ports
from .catalogue import CatalogueStore
from .consents import ConsentStore, ExchangeStore
from .documents import Documents
from .outbox import EffectRows, OutboxRows
from .people import PeopleStore
from .reads import ReadLog
from .repository import CaseRepository
from .route_book import RouteBook, StoredRoutes
from .sessions import SessionRows
from .sign_in_tally import SignInTallies
from .steering import SteeringStore
from .users import UserRows

# the engine of the code that still opens its own connections (named here, so that the
# modules above the store import no SQLAlchemy to speak of it)
DatabaseEngine: TypeAlias = Engine


class UnitOfWork(Protocol):
    """One transaction and its repositories, as the services use them."""

    @property
    def cases(self) -> ports.Cases: ...
    @property
    def routes(self) -> ports.Routes: ...
    @property
    def effects(self) -> ports.Effects: ...
    @property
    def people(self) -> ports.People: ...
    @property
    def consents(self) -> ports.Consents: ...
    @property
    def exchanges(self) -> ports.Exchanges: ...
    @property
    def documents(self) -> ports.CaseFiles: ...
    @property
    def reads(self) -> ports.Reads: ...
    @property
    def users(self) -> ports.Users: ...
    @property
    def sessions(self) -> ports.Sessions: ...
    @property
    def tallies(self) -> ports.Tallies: ...
    # SQL only (no in-memory fake: their tests run on the databases)
    @property
    def outbox(self) -> OutboxRows: ...
    @property
    def catalogue(self) -> CatalogueStore: ...
    @property
    def steering(self) -> SteeringStore: ...


class Units(Protocol):
    """Opens units of work: ``units()`` a writing one, ``units(write=False)`` a reading
    one, ``units(within=uow)`` the caller's ``uow`` itself."""

    def __call__(self, write: bool = True, within: UnitOfWork | None = None
                 ) -> AbstractContextManager[UnitOfWork]: ...

    def held(self, write: bool = True) -> AbstractContextManager[Units]:
        """Units opened one after the other on one connection kept meanwhile (a sweep:
        a pool checkout per case costs about as much as the case's statements)."""
        ...


class SqlUnitOfWork:
    def __init__(self, conn: Connection, book: RouteBook) -> None:
        self.conn = conn
        self.cases = CaseRepository(conn)
        self.routes = StoredRoutes(conn, book)
        self.outbox = OutboxRows(conn)
        self.effects = EffectRows(conn)
        self.people = PeopleStore(conn)
        self.consents = ConsentStore(conn)
        self.exchanges = ExchangeStore(conn)
        self.documents = Documents(conn)
        self.reads = ReadLog(conn)
        self.users = UserRows(conn)
        self.sessions = SessionRows(conn)
        self.tallies = SignInTallies(conn)
        self.catalogue = CatalogueStore(conn)
        self.steering = SteeringStore(conn)


@contextmanager
def _transaction(conn: Connection, book: RouteBook) -> Iterator[SqlUnitOfWork]:
    try:
        with conn.begin():
            yield SqlUnitOfWork(conn, book)
    except IntegrityError:
        raise StaleVersion("écrit entre-temps par une autre transaction ; recharger / "
                           "written meanwhile by another transaction; reload") from None


class SqlUnits:
    """Units of work on ``engine``; routes parsed through ``book`` (one per registry)."""

    def __init__(self, engine: Engine, book: RouteBook | None = None) -> None:
        self.engine = engine
        self.book = book or _default_book()

    @contextmanager
    def __call__(self, write: bool = True, within: UnitOfWork | None = None
                 ) -> Iterator[UnitOfWork]:
        if within is not None:
            yield within
            return
        with self._connection(write) as conn, _transaction(conn, self.book) as uow:
            yield uow

    @contextmanager
    def held(self, write: bool = True) -> Iterator[Units]:
        with self._connection(write) as conn:
            yield _HeldUnits(conn, self.book)

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        """A connection of the pool; a writer's begins IMMEDIATE on SQLite (``relais.db``)."""
        with self.engine.connect() as conn:
            if write:
                conn.execution_options(**WRITE)
            yield conn


class _HeldUnits:
    def __init__(self, conn: Connection, book: RouteBook) -> None:
        self.conn, self.book = conn, book

    @contextmanager
    def __call__(self, write: bool = True, within: UnitOfWork | None = None
                 ) -> Iterator[UnitOfWork]:
        """A unit on the kept connection (``write`` as the connection was kept)."""
        if within is not None:
            yield within
            return
        with _transaction(self.conn, self.book) as uow:
            yield uow

    @contextmanager
    def held(self, write: bool = True) -> Iterator[Units]:
        yield self


_books: dict[None, RouteBook] = {}


def _default_book() -> RouteBook:
    """The route book of the default registry, for units opened without services."""
    if None not in _books:
        _books[None] = RouteBook(default_registry())
    return _books[None]


def units_for(source: Engine | Units, book: RouteBook | None = None) -> Units:
    """``source`` itself when it opens units already, else units on the engine."""
    return SqlUnits(source, book) if isinstance(source, Engine) else source


def engine_of(units: Units) -> Engine:
    """The engine under SQL units, for the code that still opens its own connections."""
    if not isinstance(units, SqlUnits):
        raise TypeError("ces unités ne sont pas sur une base de données / these units are "
                        "not on a database")
    return units.engine


def unit_of_work(engine: Engine, *, write: bool = True,
                 within: UnitOfWork | None = None) -> AbstractContextManager[UnitOfWork]:
    """A new unit on ``engine``, or ``within``, the caller's, when it has one."""
    return SqlUnits(engine)(write, within)
