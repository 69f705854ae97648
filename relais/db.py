"""The database engine: SQLite (WAL) by default, PostgreSQL through RELAIS_DATABASE_URL."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from cases.store import WRITE

Synchronous = Literal["normal", "full"]
BUSY_TIMEOUT_S = 15


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
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S,
                                                  "check_same_thread": False},
                               pool_reset_on_return=None, **kw)
        event.listen(engine, "connect", partial(_sqlite_pragmas,
                                                synchronous=_SYNCHRONOUS[sqlite_synchronous]))
        # We issue BEGIN ourselves: IMMEDIATE for units of work that write (they take the
        # write lock at the start, so two writers queue instead of failing halfway with
        # "database is locked"), a plain deferred BEGIN for reads, which must not block.
        writers = _Writers()
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", partial(writers.end, "COMMIT"))
        event.listen(engine, "rollback", partial(writers.end, "ROLLBACK"))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


class _Writers:
    """The writers of this process queue on a lock before SQLite's: a writer that finds
    SQLite's write lock taken sleeps in its busy handler (1, 2, 5 … 100 ms between tries),
    which the API's worker threads and the embedded orchestration turned into a latency tail;
    the lock hands the write over as soon as the previous one has committed. Writers of other
    processes still meet at SQLite's busy timeout."""

    HELD = "relais_writer"

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if not all(conn.get_execution_options().get(k) == v for k, v in WRITE.items()):
            dbapi.execute("BEGIN")
            return
        # a writer nested in another's thread would wait for itself: after the busy timeout
        # it goes on to SQLite, which refuses it ("database is locked") as it did before
        held = self.lock.acquire(timeout=BUSY_TIMEOUT_S)
        try:
            dbapi.execute("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                self.lock.release()
            raise
        conn.info[self.HELD] = held

    def end(self, statement: str, conn: Any) -> None:
        """COMMIT or ROLLBACK said here for a writer, so that the lock is released after it
        (SQLAlchemy's events come before; its own commit then finds nothing to do)."""
        if self.HELD not in conn.info:
            return
        held = conn.info.pop(self.HELD)
        try:
            conn.connection.dbapi_connection.execute(statement)
        finally:
            if held:
                self.lock.release()


_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # never user text in the PRAGMA


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")  # see make_engine
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
