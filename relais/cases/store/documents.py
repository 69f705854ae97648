"""Documents attached to cases (files gathered, letters, messages) and the tasks actions
leave for institutions. Written in the transaction of the event that records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from relais.cases.domain.results import Document, Task

from . import ledger
from .codec import aware
from .tables import document_t, task_t


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    case_id: str
    seq: int
    name: str
    kind: str
    institution: str
    category: str
    title: str
    media_type: str
    sha256: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class TaskInfo:
    id: int
    case_id: str
    kind: str
    institution: str
    title: str
    status: str
    created_at: datetime
    done_at: datetime | None


_INFO = [document_t.c[n] for n in ("id", "case_id", "seq", "name", "kind", "institution",
                                   "category", "title", "media_type", "sha256", "created_at")]


class Documents:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def attach(self, case_id: str, seq: int, key: str, documents: list[Document],
               now: datetime) -> None:
        if documents:
            rows = [{"case_id": case_id, "seq": seq, "key": key, "name": d.name, "kind": d.kind,
                     "institution": d.institution, "category": d.category,
                     "title": d.title[:300], "media_type": d.media_type, "sha256": d.sha256,
                     "content": d.content, "created_at": now} for d in documents]
            # one statement for all of them; the keys are given in the order of the rows
            # (SQLite numbers them so under the unit's write lock, PostgreSQL's sequence in
            # the order of the VALUES), whatever order RETURNING gives them back in
            ids = sorted(self.conn.execute(insert(document_t).values(rows)
                                           .returning(document_t.c.id)).scalars().all())
            ledger.append_all(self.conn, "case_document",
                              [{**row, "id": made} for row, made in zip(rows, ids, strict=True)])

    def open_tasks(self, case_id: str, key: str, tasks: list[Task], now: datetime) -> None:
        if tasks:
            self.conn.execute(insert(task_t), [
                {"case_id": case_id, "key": key, "kind": t.kind, "institution": t.institution,
                 "title": t.title, "status": "open", "created_at": now} for t in tasks])

    def close_tasks(self, case_id: str, institution: str, kind: str, seq: int,
                    now: datetime) -> int:
        done = self.conn.execute(
            update(task_t).where(task_t.c.case_id == case_id, task_t.c.institution == institution,
                                 task_t.c.kind == kind, task_t.c.status == "open")
            .values(status="done", done_at=now, done_seq=seq))
        return done.rowcount

    def of_case(self, case_id: str) -> list[DocumentInfo]:
        rows = self.conn.execute(select(*_INFO, func.length(document_t.c.content))
                                 .where(document_t.c.case_id == case_id)
                                 .order_by(document_t.c.id))
        return [DocumentInfo(r.id, r.case_id, r.seq, r.name, r.kind, r.institution, r.category,
                             r.title, r.media_type, r.sha256, int(r[11]), aware(r.created_at))
                for r in rows]

    def content(self, case_id: str, document_id: int) -> tuple[DocumentInfo, bytes] | None:
        info = next((d for d in self.of_case(case_id) if d.id == document_id), None)
        if info is None:
            return None
        body = self.conn.execute(select(document_t.c.content)
                                 .where(document_t.c.id == document_id)).scalar_one()
        return info, bytes(body)

    def tasks(self, *, case_id: str | None = None, institution: str | None = None,
              status: str | None = "open", limit: int = 500) -> list[TaskInfo]:
        q = select(task_t.c.id, task_t.c.case_id, task_t.c.kind, task_t.c.institution,
                   task_t.c.title, task_t.c.status, task_t.c.created_at, task_t.c.done_at)
        if case_id is not None:
            q = q.where(task_t.c.case_id == case_id)
        if institution is not None:
            q = q.where(task_t.c.institution == institution)
        if status is not None:
            q = q.where(task_t.c.status == status)
        return [TaskInfo(r.id, r.case_id, r.kind, r.institution, r.title, r.status,
                         aware(r.created_at), aware(r.done_at))
                for r in self.conn.execute(q.order_by(task_t.c.id).limit(limit))]
