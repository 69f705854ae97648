"""The database engine: SQLite (WAL) by default, PostgreSQL through RELAIS_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from cases.store import WRITE


def make_engine(url: str, **kw: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Every connection leaves through a commit or a rollback of its own transaction
        # (SQLAlchemy closes them so), so the pool's extra rollback on return is skipped.
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False},
                               pool_reset_on_return=None, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        # We issue BEGIN ourselves: IMMEDIATE for units of work that write (they take the
        # write lock at the start, so two writers queue instead of failing halfway with
        # "database is locked"), a plain deferred BEGIN for reads, which must not block.
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


def _begin(conn: Any) -> None:
    immediate = all(conn.get_execution_options().get(k) == v for k, v in WRITE.items())
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
