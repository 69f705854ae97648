"""The hot path's SQL, sent straight to the driver.

Building and executing a SQLAlchemy statement costs several times what SQLite takes to run
it, and an event is five statements. So the statements of one transition (read the case,
write events, case, deadline, outbox) are generated once per dialect from the table
definitions and sent on the driver's own cursor, with values converted here exactly as
SQLAlchemy would store them (the audit reads them back through SQLAlchemy and checks).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import JSON, Connection, DateTime, Table


class Statements:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.named = "%({})s" if dialect == "postgresql" else ":{}"

    # identifiers are quoted: PostgreSQL reserves some of our column names (``user``)
    def p(self, name: str) -> str:
        return self.named.format(name)

    def insert(self, table: Table, cols: Iterable[str]) -> str:
        return self._insert(table, tuple(cols))

    def update(self, table: Table, where: Iterable[str], sets: Iterable[str]) -> str:
        """``UPDATE … SET <sets> WHERE <where>``; where-parameters are named ``w_<column>``."""
        return self._update(table, tuple(where), tuple(sets))

    def select(self, table: Table, where: Iterable[str]) -> str:
        return self._select(table, tuple(where))

    # the texts are built once per shape: building them costs more than SQLite running them
    @lru_cache(maxsize=256)  # noqa: B019 - one Statements per dialect, kept for good
    def _insert(self, table: Table, cols: tuple[str, ...]) -> str:
        names = ", ".join(_quoted(c) for c in cols)
        values = ", ".join(self.p(c) for c in cols)
        return f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'

    @lru_cache(maxsize=256)  # noqa: B019
    def _update(self, table: Table, where: tuple[str, ...], sets: tuple[str, ...]) -> str:
        sets_sql = ", ".join(f"{_quoted(c)} = {self.p(c)}" for c in sets)
        where_sql = " AND ".join(f"{_quoted(c)} = {self.p('w_' + c)}" for c in where)
        return f'UPDATE "{table.name}" SET {sets_sql} WHERE {where_sql}'

    @cache  # noqa: B019
    def last_entry(self) -> str:
        """The ``at`` of a case's last move into a state (``derived.enters_state`` in SQL; the
        kinds written out, so that the partial index ``ix_case_event_moves`` serves it)."""
        return ("SELECT at FROM case_event WHERE case_id = " + self.p("case_id")
                + " AND kind IN ('case_opened', 'transitioned', 'handoff_accepted')"
                " AND (from_state IS NULL OR from_state <> to_state)"
                " ORDER BY seq DESC LIMIT 1")

    @cache  # noqa: B019
    def case_by_handoff(self) -> str:
        return ('SELECT "case".* FROM "case" JOIN handoff ON handoff.case_id = "case".id '
                "WHERE handoff.id = " + self.p("id"))

    @cache  # noqa: B019
    def ledger_head(self) -> str:
        """The last record of a ledger chain (``ledger.append``)."""
        return ("SELECT n, hash FROM ledger WHERE chain = " + self.p("chain")
                + " ORDER BY n DESC LIMIT 1")

    @lru_cache(maxsize=16)  # noqa: B019
    def insert_and_head(self, table: Table, cols: tuple[str, ...]) -> str:
        """PostgreSQL: insert a row, and read its ``id`` and its ledger chain's last record
        in the same statement (a data-modifying CTE; ``ledger.insert``)."""
        return (f"WITH made AS ({self._insert(table, cols)} RETURNING id) "
                "SELECT made.id, h.n AS head_n, h.hash AS head_hash FROM made LEFT JOIN "
                "(SELECT n, hash FROM ledger WHERE chain = " + self.p("ledger_chain")
                + " ORDER BY n DESC LIMIT 1) h ON true")

    @cache  # noqa: B019
    def ledger_insert(self) -> str:
        """A record, unless its number was taken meanwhile (then no row comes back)."""
        cols = ("chain", "n", "kind", "ref", "case_id", "digest", "prev_hash", "hash")
        return (f"INSERT INTO ledger ({', '.join(cols)}) VALUES "
                f"({', '.join(self.p(c) for c in cols)}) "
                "ON CONFLICT (chain, n) DO NOTHING RETURNING n")

    @lru_cache(maxsize=16)  # noqa: B019
    def upsert(self, table: Table, key: tuple[str, ...], cols: tuple[str, ...]) -> str:
        """Insert a row, or update the one with the same key (SQLite 3.24+, PostgreSQL)."""
        sets = ", ".join(f"{_quoted(c)} = excluded.{_quoted(c)}" for c in cols if c not in key)
        return (f"{self._insert(table, cols)} ON CONFLICT "
                f"({', '.join(_quoted(c) for c in key)}) DO UPDATE SET {sets}")

    @lru_cache(maxsize=64)  # noqa: B019
    def _select(self, table: Table, where: tuple[str, ...]) -> str:
        return (f'SELECT * FROM "{table.name}" WHERE '
                + " AND ".join(f"{_quoted(c)} = {self.p(c)}" for c in where))


def _quoted(name: str) -> str:
    return f'"{name}"'


@cache
def statements(dialect: str) -> Statements:
    return Statements(dialect)


@cache
def _kinds(table: Table) -> dict[str, str]:
    return {c.name: "json" if isinstance(c.type, JSON) else
            "datetime" if isinstance(c.type, DateTime) else "plain" for c in table.columns}


def batch(conn: Connection) -> AbstractContextManager[Any]:
    """Statements sent together: on PostgreSQL in psycopg's pipeline, one round trip whose
    results (rowcounts, errors) are known when the block ends; elsewhere one by one."""
    if conn.dialect.name == "postgresql":
        driver: Any = conn.connection.dbapi_connection  # psycopg's Connection
        return cast(AbstractContextManager[Any], driver.pipeline())
    return nullcontext()


def run(conn: Connection, sql: str, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
    """Execute on the driver's own cursor, inside the connection's current transaction."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    if isinstance(params, list):
        cursor.executemany(sql, params)
    else:
        cursor.execute(sql, params)
    return cursor


def fetch_one(conn: Connection, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    cursor = run(conn, sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def to_db(conn: Connection, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values as SQLAlchemy would send them for this table's column types."""
    kinds = _kinds(table)
    sqlite = conn.dialect.name == "sqlite"
    out = {}
    for name, value in values.items():
        kind = kinds.get(name.removeprefix("w_"), "plain")
        if value is None or kind == "plain":
            out[name] = value
        elif kind == "json":
            out[name] = json.dumps(value)
        elif sqlite:  # SQLAlchemy's SQLite storage format ("%Y-%m-%d %H:%M:%S.%f"), in UTC
            out[name] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        else:
            out[name] = value
    return out


def from_db(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A raw driver row as SQLAlchemy would have read it (aware UTC datetimes, parsed JSON)."""
    kinds = _kinds(table)
    out = {}
    for name, value in row.items():
        kind = kinds[name]
        if kind == "json" and isinstance(value, str | bytes):
            value = json.loads(value)
        elif kind == "datetime" and isinstance(value, str):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif kind == "datetime" and isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        out[name] = value
    return out
