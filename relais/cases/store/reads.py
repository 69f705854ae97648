"""The read record: who read which case file, when, and what of it; each row in the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from . import ledger
from .tables import read_t


class ReadLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, case_ids: list[str], *, user: str, institution: str, at: datetime,
            what: str) -> None:
        for case_id in dict.fromkeys(case_ids):
            ledger.insert(self.conn, read_t, {"case_id": case_id, "user": user,
                                              "institution": institution, "at": at,
                                              "what": what})

    def of_case(self, case_id: str, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many reads of ``case_id`` are on record, and the latest ``limit``."""
        total = self.conn.execute(select(func.count()).select_from(read_t)
                                  .where(read_t.c.case_id == case_id)).scalar_one()
        rows = self.conn.execute(
            select(read_t.c.at, read_t.c.user, read_t.c.institution, read_t.c.what)
            .where(read_t.c.case_id == case_id)
            .order_by(read_t.c.at.desc(), read_t.c.id.desc()).limit(limit))
        return int(total), [dict(r._mapping) for r in rows]
