"""The read record: who read which case file, when, and what of it; each row in the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

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
