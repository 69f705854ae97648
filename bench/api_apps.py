"""The two apps of bench/api.py: Relais itself, and a bare FastAPI doing the same SQL."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, HTTPException


def relais_app() -> FastAPI:
    from relais.asgi import app
    return app()


def bare_app() -> FastAPI:
    app = FastAPI()
    local = threading.local()

    def db() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            conn = sqlite3.connect(os.environ["BENCH_DB"], isolation_level=None, timeout=15)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            local.conn = conn
        return local.conn  # type: ignore[no-any-return]

    def user(authorization: str) -> sqlite3.Row:
        token = authorization.removeprefix("Bearer ")
        row = db().execute("SELECT * FROM app_user WHERE token_hash = ? AND revoked_at IS NULL",
                           (hashlib.sha256(token.encode()).hexdigest(),)).fetchone()
        if row is None:
            raise HTTPException(401)
        return row

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/cases/{case_id}")
    def get_case(case_id: str, authorization: str = Header()) -> dict[str, Any]:
        who = user(authorization)
        conn = db()
        conn.execute("BEGIN")
        row = conn.execute('SELECT * FROM "case" WHERE id = ?', (case_id,)).fetchone()
        person = conn.execute("SELECT * FROM person WHERE id = ?", (row["person_id"],)).fetchone()
        conn.execute("COMMIT")
        conn.execute("INSERT INTO case_read (case_id, user, institution, at, what) "
                     "VALUES (?, ?, ?, ?, 'case')", (case_id, who["name"], who["institution"],
                                                     datetime.now(UTC).isoformat()))
        return {**dict(row), "fields": json.loads(row["fields"]),
                "memory": json.loads(row["memory"]), "person": dict(person)}

    @app.post("/api/cases/{case_id}/events")
    def fire(case_id: str, body: dict[str, Any], authorization: str = Header()
             ) -> dict[str, Any]:
        user(authorization)
        conn = db()
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute('SELECT * FROM "case" WHERE id = ?', (case_id,)).fetchone()
        v = row["version"]
        data = json.dumps({"deadline_at": now, "actions": []})
        conn.execute("INSERT INTO case_event (case_id, seq, at, kind, actor, institution, event, "
                     "from_state, to_state, reason, data, route_version, prev_hash, hash) "
                     "VALUES (?, ?, ?, 'transitioned', 'bench', 'ORP-NE', ?, ?, ?, NULL, ?, 1, "
                     "?, ?)", (case_id, v + 1, now, body["event"], row["state"], row["state"],
                               data, row["last_hash"], "1" * 64))
        conn.execute('UPDATE "case" SET version = ?, memory = ?, last_hash = ? '
                     "WHERE id = ? AND version = ?", (v + 1, row["memory"], "1" * 64, case_id, v))
        conn.execute("UPDATE deadline SET due_at = ? WHERE case_id = ? AND kind = 'state'",
                     (now, case_id))
        conn.execute("COMMIT")
        return {**dict(row), "version": v + 1}

    return app
