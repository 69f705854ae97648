"""The database engine: SQLite (WAL) by default, PostgreSQL through RELAIS_DATABASE_URL."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from relais.cases.store import SINGLE, WRITE

Synchronous = Literal["normal", "full"]


def make_engine(url: str, *, sqlite_synchronous: Synchronous = "normal", **kw: Any) -> Engine:
    """``sqlite_synchronous``: with WAL, ``normal`` syncs the disk at checkpoints only: a
    committed transaction survives a crash of the process, not always a power cut or a crash
    of the system; ``full`` syncs every commit (durable against both, each commit slower)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Every connection leaves through a commit or a rollback of its own transaction
        # (SQLAlchemy closes them so), so the pool's extra rollback on return is skipped.
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False},
                               pool_reset_on_return=None, **kw)
        event.listen(engine, "connect", partial(_sqlite_pragmas,
                                                synchronous=_SYNCHRONOUS[sqlite_synchronous]))
        # We issue BEGIN ourselves: IMMEDIATE for units of work that write (they take the
        # write lock at the start, so two writers queue instead of failing halfway with
        # "database is locked"), a plain deferred BEGIN for reads, which must not block.
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


def _begin(conn: Any) -> None:
    options = conn.get_execution_options()
    if all(options.get(k) == v for k, v in SINGLE.items()):
        return  # one statement, its own transaction (cases.store.SINGLE): no BEGIN, no COMMIT
    immediate = all(options.get(k) == v for k, v in WRITE.items())
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # never user text in the PRAGMA


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")  # see make_engine
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
