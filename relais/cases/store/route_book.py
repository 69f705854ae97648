"""Published routes: each (id, version) is stored once and never changes."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import Connection, insert, select

from relais.cases.domain.errors import Conflict, NotFound
from relais.i18n import bi
from relais.institutions.registry import Registry
from relais.workflows.engine.model import Route
from relais.workflows.engine.problems import Problem
from relais.workflows.engine.validate import parse_route

from .codec import aware
from .ports import Routes
from .tables import route_t

if TYPE_CHECKING:
    from .uow import UnitOfWork

BoundRoutes: TypeAlias = Routes  # the routes of one unit of work (``StoredRoutes``)


class InvalidRoute(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class RouteBook:
    """Routes by (id, version), parsed once and kept: a published version never changes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[tuple[str, int], Route] = {}
        self._lock = threading.Lock()

    def publish(self, conn: Connection, text: str, *, by: str, now: datetime) -> tuple[Route, bool]:
        """Store a valid route; (route, False) when the identical version already exists."""
        route, problems = parse_route(text, self.registry)
        if route is None:
            raise InvalidRoute(problems)
        existing = conn.execute(select(route_t.c.digest).where(
            route_t.c.route_id == route.id, route_t.c.version == route.version)).scalar()
        if existing is not None:
            if existing != route.digest:
                raise Conflict(bi("la version %(version)s de « %(route)s » est déjà publiée "
                                  "avec un autre contenu", "version %(version)s of '%(route)s' "
                                  "is already published with other content",
                                  version=route.version, route=route.id),
                               route=route.id, version=route.version)
            return route, False
        conn.execute(insert(route_t).values(route_id=route.id, version=route.version,
                                            digest=route.digest, source=route.source,
                                            published_at=now, published_by=by))
        return route, True

    def on(self, uow: UnitOfWork) -> BoundRoutes:
        """The book read in a unit's transaction, for code above the store: the unit's
        ``routes``, through this book (a unit opened without the services has the default
        registry's)."""
        routes = uow.routes
        if isinstance(routes, StoredRoutes) and routes.book is not self:
            return StoredRoutes(routes.conn, self)
        return routes

    def cached(self, route_id: str, version: int) -> Route | None:
        return self._cache.get((route_id, version))

    def keep(self, route: Route) -> Route:
        """``route`` cached, as read by a unit whatever its store (the in-memory one's too)."""
        with self._lock:
            return self._cache.setdefault((route.id, route.version), route)

    def get(self, conn: Connection, route_id: str, version: int | None = None) -> Route:
        if version is not None and (route_id, version) in self._cache:
            return self._cache[(route_id, version)]
        query = select(route_t.c.version, route_t.c.source).where(route_t.c.route_id == route_id)
        if version is not None:
            query = query.where(route_t.c.version == version)
        row = conn.execute(query.order_by(route_t.c.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"route inconnue « {route_id} » / unknown route", route=route_id)
        key = (route_id, row.version)
        with self._lock:
            if key not in self._cache:
                route, problems = parse_route(row.source, self.registry)
                if route is None:  # the registry changed under a published route
                    raise InvalidRoute(problems)
                self._cache[key] = route
        return self._cache[key]

    def published(self, conn: Connection) -> dict[str, list[tuple[int, datetime, str]]]:
        """Every route id with its versions in order: (version, when, by whom)."""
        out: dict[str, list[tuple[int, datetime, str]]] = {}
        for rid, v, at, by in conn.execute(
                select(route_t.c.route_id, route_t.c.version, route_t.c.published_at,
                       route_t.c.published_by)
                .order_by(route_t.c.route_id, route_t.c.version)):
            out.setdefault(rid, []).append((v, aware(at), by))
        return out

    def digests(self, conn: Connection, route_id: str) -> dict[int, str]:
        """The published versions of ``route_id`` and the digest of each text."""
        return {int(v): str(d) for v, d in conn.execute(
            select(route_t.c.version, route_t.c.digest).where(route_t.c.route_id == route_id))}

    def versions(self, conn: Connection) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for rid, v in conn.execute(select(route_t.c.route_id, route_t.c.version)
                                   .order_by(route_t.c.route_id, route_t.c.version)):
            out.setdefault(rid, []).append(v)
        return out


class StoredRoutes:
    """The published routes as one unit of work reads and writes them, parsed through
    ``book`` (a version in its cache costs no statement)."""

    def __init__(self, conn: Connection, book: RouteBook) -> None:
        self.conn, self.book = conn, book

    def get(self, route_id: str, version: int | None = None) -> Route:
        """A published version (the latest without ``version``); NotFound when there is none."""
        return self.book.get(self.conn, route_id, version)

    def publish(self, text: str, *, by: str, now: datetime) -> tuple[Route, bool]:
        return self.book.publish(self.conn, text, by=by, now=now)

    def published(self) -> dict[str, list[tuple[int, datetime, str]]]:
        return self.book.published(self.conn)

    def digests(self, route_id: str) -> dict[int, str]:
        return self.book.digests(self.conn, route_id)

    def versions(self) -> dict[str, list[int]]:
        return self.book.versions(self.conn)
