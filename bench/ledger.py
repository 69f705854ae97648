"""What the ledger costs on the write path: the same calls with it and without it, side by
side in rounds (with, without, with, without...) on the same database; medians reported.

"Without" is the code of before: the ledger's calls replaced by nothing, and the read log's
insert by the plain insert it was. Measured: a read logged (on every read of a case), a
document added (an event and its document), a case opened (a person and a case), a case
read as ``GET /api/cases/{id}`` reads it, without HTTP (visibility, read log, disclosure,
answer), and on PostgreSQL reads logged from 4 threads at once (the chains' races).

    python -m bench.ledger [--n 1000] [--rounds 5] [--no-postgres]
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table

from relais.api.views import case_out
from relais.cases.domain.actors import Actor
from relais.cases.domain.results import Document
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.cases.store import fastsql, ledger
from relais.demo import avs
from relais.institutions.registry import Kind, Role
from relais.migrate import upgrade
from relais.wiring import publish_standard_routes

from .databases import arguments, on_each

ORP = Actor("bench", "ORP-NE", Kind.AC, Role.case_manager)
CASES = 50


def _plain_insert(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    fastsql.run(conn, fastsql.statements(conn.dialect.name).insert(table, row),
                fastsql.to_db(conn, table, row))


@contextmanager
def without_ledger() -> Iterator[None]:
    kept = ledger.record, ledger.insert
    ledger.record = lambda *a, **k: None  # type: ignore[assignment]
    ledger.insert = _plain_insert  # type: ignore[assignment]
    try:
        yield
    finally:
        ledger.record, ledger.insert = kept  # type: ignore[assignment]


class Bench:
    def __init__(self, engine: Engine) -> None:
        upgrade(engine)
        self.services = CaseServices(engine)
        publish_standard_routes(self.services)
        self.queries = CaseQueries(self.services)
        self.sharing = Sharing(self.services)
        self.people = 0
        self.ids = [self.open() for _ in range(CASES)]

    def open(self) -> str:
        self.people += 1
        return self.services.open_case(route="reseau-cii", actor=ORP, fields={}, person={
            "avs": avs(700000 + self.people), "official_name": "Banc", "first_name": "Essai",
            "birth_date": "1980-01-01"}).case.id

    def reads(self, n: int) -> None:
        for i in range(n):
            self.queries.log_read(ORP, self.ids[i % CASES], "case")

    def case_reads(self, n: int) -> None:
        for i in range(n):
            case = self.queries.case_for(ORP, self.ids[i % CASES])
            self.queries.log_read(ORP, case.id, "case")
            case_out(self.queries, self.sharing, ORP, case)

    def documents(self, n: int) -> None:
        for i in range(n):
            self.services.add_document(self.ids[i % CASES], Document(
                f"piece-{uuid.uuid4().hex[:8]}", "file", "ORP-NE", "situation", "Pièce",
                "application/pdf", b"%PDF-1.4 " + bytes(2000)), actor=ORP)

    def opens(self, n: int) -> None:
        for _ in range(n):
            self.open()

    def threaded_reads(self, n: int, threads: int = 4) -> None:
        workers = [threading.Thread(target=self.reads, args=(n // threads,))
                   for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


def rate(step: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    step(n)
    return n / (time.perf_counter() - start)


def compare(name: str, engine: Engine, n: int, rounds: int) -> None:
    bench = Bench(engine)
    steps = [("read logged", bench.reads, n), ("case read (API's work)", bench.case_reads, n),
             ("document added", bench.documents, n // 4),
             ("case opened", bench.opens, n // 4)]
    if engine.dialect.name == "postgresql":
        steps.append(("read logged, 4 threads", bench.threaded_reads, n))
    print(name)
    for label, step, count in steps:
        step(min(count, 50))  # warm up
        with_, without = [], []
        for _ in range(rounds):
            with_.append(rate(step, count))
            with without_ledger():
                without.append(rate(step, count))
        w, wo = statistics.median(with_), statistics.median(without)
        print(f"  {label:<24} with the ledger {w:7.0f}/s   without {wo:7.0f}/s   "
              f"ratio {w / wo:6.1%}   (median of {rounds} rounds of {count})")


def main() -> None:
    args = arguments(__doc__, 1000)
    on_each(args, lambda label, engine: compare(label, engine, args.n, args.rounds),
            "PostgreSQL")


if __name__ == "__main__":
    main()
