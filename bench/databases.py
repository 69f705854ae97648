"""The databases a benchmark compares on: a fresh SQLite file, and a new PostgreSQL database
dropped afterwards; the command-line options they share."""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from relais.db import make_engine

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def arguments(doc: str | None, n: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--n", type=int, default=n)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=PG)
    parser.add_argument("--no-postgres", action="store_true")
    return parser.parse_args()


def on_each(args: argparse.Namespace, run: Callable[[str, Engine], object],
            postgres_name: str = "PostgreSQL") -> None:
    """``run(label, engine)`` on SQLite, then on PostgreSQL unless ``--no-postgres``."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        run("SQLite (file, WAL)", engine)
        engine.dispose()
    if args.no_postgres:
        return
    admin = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"relais_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(args.postgres.rsplit("/", 1)[0] + f"/{name}")
        run(postgres_name, engine)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
