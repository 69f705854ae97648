"""Issue 11, finding 7: someone who can write the database, but holds no key, tampers with it
in raw SQL; ``relais audit verify``, run as a real process, exits 1 and names what broke.

Each database is filled through the services (a case with a medical document, a consent,
the exchanges and reads it allowed, a second case), then checkpointed with the audit key.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from relais.cases.domain.results import Document
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.cases.store.audit import verify
from relais.cases.store.checkpoints import heads_digest, sign, take
from relais.cases.store.ledger import COVERED, backfill, record, record_hash
from relais.cases.store.tables import (
    case_t,
    checkpoint_t,
    consent_t,
    document_t,
    event_t,
    ledger_t,
    person_t,
    read_t,
)
from relais.demo import Clock
from tests.conftest import OAI, ORP, PERSON, refer

KEY = "clé-d-audit-de-test-0123456789-abcdefghij"
AT = "02.03.2026 10:00"  # the checkpoint, in Neuchâtel's time


@dataclass(frozen=True)
class Filled:
    engine: Engine
    url: str
    case: str  # ORP's case: a medical document, a consent, exchanges and reads
    other: str  # a second case, of another person
    person: int
    document: int
    consent: str
    reads: list[int]
    folder: Path

    def verify(self, *, lang: str | None = "en", key: str | None = KEY
               ) -> subprocess.CompletedProcess[str]:
        return self.relais("audit", "verify", lang=lang, key=key)

    def relais(self, *args: str, lang: str | None = "en", key: str | None = KEY
               ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("RELAIS_LANG", "RELAIS_AUDIT_KEY")}
        env |= {"RELAIS_DATABASE_URL": self.url, **({"RELAIS_LANG": lang} if lang else {}),
                **({"RELAIS_AUDIT_KEY": key} if key else {})}
        return subprocess.run([sys.executable, "-m", "relais.cli", *args], env=env,
                              cwd=self.folder, capture_output=True, text=True, timeout=120,
                              check=False)

    def sql(self, *statements: Any) -> None:
        with self.engine.begin() as conn:
            for s in statements:
                conn.execute(s)


def fill(services: CaseServices, engine: Engine, folder: Path) -> Filled:
    opened = refer(services, route="reseau-cii", actor=ORP, fields={},
                                person={**PERSON, "email": "jean.muster@example.org"})
    case_id = opened.case.id
    services.fire(case_id, "transmettre", actor=ORP)
    services.record_action(case_id, key=f"{case_id}:2:gather_files", action="gather_files",
                           summary={}, documents=[Document(
                               "dossier-OAI-NE-1", "file", "OAI-NE", "medical", "Dossier AI",
                               "application/pdf", b"%PDF-1.4 rapport medical")])
    sharing = Sharing(services)
    consent = sharing.record(ORP, services.get(case_id), grantor="Jean Muster",
                             recipients=["OAI-NE"], categories=["medical"],
                             purpose="évaluation", valid_until=None)
    assert "medical" in sharing.disclose(OAI, services.get(case_id)).shown
    queries = CaseQueries(services)
    queries.log_read(OAI, case_id, "case")
    queries.log_read(ORP, case_id, "history")
    other = services.open_case(route="reseau-cii", actor=ORP, fields={}, person={
        "avs": "756.9217.0769.85", "official_name": "Favre", "first_name": "Léa",
        "birth_date": "1990-02-01"}).case.id
    with engine.connect() as conn:
        document = conn.execute(select(document_t.c.id)).scalar_one()
        reads = list(conn.execute(select(read_t.c.id).order_by(read_t.c.id)).scalars())
    return Filled(engine, engine.url.render_as_string(hide_password=False), case_id, other,
                  opened.case.person, document, consent, reads, folder)


@pytest.fixture
def filled(services: CaseServices, engine: Engine, clock: Clock, tmp_path: Path) -> Filled:
    f = fill(services, engine, tmp_path)
    made, problems = take(engine, KEY.encode(), clock())
    assert made is not None and problems == []
    return f


def checkpoints(f: Filled) -> list[int]:
    """The checkpoints' ids (PostgreSQL's sequences go on after the tables are emptied)."""
    with f.engine.connect() as conn:
        return list(conn.execute(select(checkpoint_t.c.id).order_by(checkpoint_t.c.id))
                    .scalars())


def test_an_untouched_database_is_intact_and_names_its_last_checkpoint(filled: Filled
                                                                       ) -> None:
    done = filled.verify()
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [f"last valid checkpoint: {checkpoints(filled)[0]} of {AT}",
                                        "2 cases, 4 events: intact"]


def test_a_deleted_document_is_named(filled: Filled) -> None:
    filled.sql(delete(document_t).where(document_t.c.id == filled.document))
    done = filled.verify()
    assert done.returncode == 1
    assert f"case {filled.case}: document {filled.document}: deleted, the ledger recorded " \
           f"it" in done.stdout


def test_a_document_moved_from_medical_to_situation_is_named(filled: Filled) -> None:
    # "situation" would show it to every institution with a legal basis for situations
    filled.sql(update(document_t).values(category="situation"))
    done = filled.verify()
    assert done.returncode == 1
    assert f"case {filled.case}: document {filled.document}: changed since it was recorded" \
        in done.stdout


@pytest.mark.parametrize("column, value", [("official_name", "Autre"),
                                           ("avs", "7561234567800")])
def test_a_person_renamed_or_given_another_avs_number_is_named(
        filled: Filled, column: str, value: str) -> None:
    filled.sql(update(person_t).where(person_t.c.id == filled.person).values({column: value}))
    done = filled.verify()
    assert done.returncode == 1
    assert f"person {filled.person}: changed since it was recorded" in done.stdout


def test_the_last_event_and_its_document_deleted_and_the_case_rewound_are_named(
        filled: Filled) -> None:
    with filled.engine.begin() as conn:
        before = conn.execute(select(event_t.c.hash).where(
            event_t.c.case_id == filled.case, event_t.c.seq == 2)).scalar_one()
        conn.execute(delete(document_t).where(document_t.c.case_id == filled.case))
        conn.execute(text("DELETE FROM action_effect WHERE case_id = :c"), {"c": filled.case})
        conn.execute(delete(event_t).where(event_t.c.case_id == filled.case,
                                           event_t.c.seq == 3))
        conn.execute(update(case_t).where(case_t.c.id == filled.case)
                     .values(version=2, last_hash=before))
    done = filled.verify()
    assert done.returncode == 1
    assert f"case {filled.case}: at version 2, behind version 3 signed at the checkpoint of " \
           f"{AT} (history rewound since)" in done.stdout
    assert f"case {filled.case}: document {filled.document}: deleted" in done.stdout


def test_deleted_consents_exchanges_and_reads_are_named(filled: Filled) -> None:
    filled.sql(text("DELETE FROM consent"), text("DELETE FROM data_exchange"),
               text("DELETE FROM case_read"))
    done = filled.verify()
    assert done.returncode == 1
    lines = done.stdout
    assert f"consent {filled.consent}: deleted" in lines
    assert lines.count(f"case {filled.case}: data exchange ") == 3  # identity, situation, medical
    for read in filled.reads:
        assert f"case {filled.case}: read-log entry {read}: deleted" in lines


def delete_case(conn: Connection, case_id: str) -> None:
    for table in ("case_event", "deadline", "handoff", "outbox", "case_document", "case_task",
                  "case_read", "data_exchange", "action_effect"):
        conn.execute(text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case_id})
    conn.execute(delete(case_t).where(case_t.c.id == case_id))


def test_a_whole_case_deleted_is_named(filled: Filled) -> None:
    with filled.engine.begin() as conn:
        delete_case(conn, filled.other)
    done = filled.verify()
    assert done.returncode == 1
    assert f"case {filled.other}: deleted since the checkpoint of {AT}" in done.stdout
    assert f"case {filled.other}: deleted, the ledger recorded it" in done.stdout


def test_an_event_rewritten_with_its_hashes_recomputed_is_caught_by_the_checkpoint(
        filled: Filled, services: CaseServices) -> None:
    history = services.history(filled.case)
    prev, rewritten = history[0].hash, []
    for e in history[1:]:
        e = replace(e, prev_hash=prev, reason="réécrit" if e.seq == 2 else e.reason).sealed()
        rewritten.append(e)
        prev = e.hash
    with filled.engine.begin() as conn:
        for e in rewritten:
            conn.execute(update(event_t).where(event_t.c.case_id == filled.case,
                                               event_t.c.seq == e.seq)
                         .values(reason=e.reason, prev_hash=e.prev_hash, hash=e.hash))
        conn.execute(update(case_t).where(case_t.c.id == filled.case).values(last_hash=prev))
    unkeyed = verify(filled.engine)  # the chain and the replay hold: only a key tells
    assert unkeyed.ok and unkeyed.unchecked == 1
    done = filled.verify()
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        f"case {filled.case}: event 3 is no longer the one signed at the checkpoint of {AT} "
        f"(history rewritten since)")


def test_a_read_deleted_with_its_ledger_record_and_the_chain_recomputed_is_caught(
        filled: Filled) -> None:
    with filled.engine.begin() as conn:
        gone = conn.execute(select(ledger_t).where(ledger_t.c.kind == "case_read",
                                                   ledger_t.c.ref == str(filled.reads[0]))
                            ).one()
        chain = [r._asdict() for r in conn.execute(
            select(ledger_t).where(ledger_t.c.chain == gone.chain).order_by(ledger_t.c.n))
            if r.n != gone.n]
        prev = ""
        for n, r in enumerate(chain, start=1):
            r |= {"n": n, "prev_hash": prev, "hash": record_hash(
                r["chain"], n, r["kind"], r["ref"], r["case_id"], r["digest"], prev)}
            prev = r["hash"]
        conn.execute(delete(read_t).where(read_t.c.id == filled.reads[0]))
        conn.execute(delete(ledger_t).where(ledger_t.c.chain == gone.chain))
        conn.execute(insert(ledger_t), chain)
    done = filled.verify()
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(f"ledger, chain {gone.chain}: record ")
    assert f"is no longer the one signed at the checkpoint of {AT} (ledger rewritten or cut " \
           f"since)" in done.stdout


def test_a_checkpoint_forged_without_the_key_is_refused_and_the_signed_one_still_holds(
        filled: Filled) -> None:
    # the forger has the code, not the key: a checkpoint of the tampered database, signed
    # with a key of their own, chained and recorded in the ledger as the real ones are
    with filled.engine.begin() as conn:
        delete_case(conn, filled.other)
        real = conn.execute(select(checkpoint_t)).one()
        heads = {c: h for c, h in real.heads.items() if c != filled.other}
        body = json.dumps({**json.loads(real.body), "number": 2, "prev": real.signature,
                           "at": "2026-03-03T09:00:00+00:00", "cases": len(heads),
                           "digest": heads_digest(heads)}, sort_keys=True,
                          separators=(",", ":"))
        made = conn.execute(insert(checkpoint_t).values(
            at=datetime(2026, 3, 3, 9, tzinfo=UTC), body=body, heads=heads,
            signature=sign(b"a key of the forger's own making, long enough", body))
        ).inserted_primary_key[0]
        record(conn, checkpoint_t, id=made)
    done = filled.verify()
    first, second = checkpoints(filled)
    assert done.returncode == 1
    assert f"checkpoint {second} of 03.03.2026 10:00: bad signature (forged or altered " \
           f"without the key)" in done.stdout
    assert f"case {filled.other}: deleted since the checkpoint of {AT}" in done.stdout
    assert f"last valid checkpoint: {first} of {AT}" in done.stdout
    # and no checkpoint follows a forged one: someone must look first
    refused, problems = take(filled.engine, KEY.encode(), datetime.now(UTC))
    assert refused is None and [p.code for p in problems] == ["cp_signature"]


def test_a_deleted_checkpoint_is_named(filled: Filled, clock: Clock) -> None:
    clock.advance(hours=1)
    assert take(filled.engine, KEY.encode(), clock())[0] is not None
    newest = checkpoints(filled)[-1]
    filled.sql(delete(checkpoint_t).where(checkpoint_t.c.id == newest))
    done = filled.verify()
    assert done.returncode == 1
    assert f"checkpoint {newest}: deleted, the ledger recorded it" in done.stdout


def test_a_consent_inserted_behind_the_ledger_is_named(filled: Filled) -> None:
    filled.sql(insert(consent_t).values(
        id="forged", person_id=filled.person, grantor="Jean Muster", recipients=["SSR-NE"],
        categories=["medical"], purpose="?", valid_from=datetime(2026, 3, 2).date(),
        recorded_by="orp", recorded_at=datetime(2026, 3, 2, 9, tzinfo=UTC)))
    done = filled.verify()
    assert done.returncode == 1
    assert "consent forged: not in the ledger (written behind its back)" in done.stdout


def test_verify_speaks_french_first(filled: Filled) -> None:
    filled.sql(update(document_t).values(category="situation"))
    done = filled.verify(lang=None)
    assert done.returncode == 1
    chain, n = recorded_at(filled, "case_document")
    assert done.stdout.splitlines() == [
        f"cas {filled.case} : document {filled.document} : modifié(e) depuis son "
        f"enregistrement (chaîne {chain}, n° {n})",
        f"dernier point de contrôle valide : {checkpoints(filled)[0]} du {AT}",
        "2 cas, 4 événements : 1 problème(s)"]


def recorded_at(f: Filled, kind: str) -> tuple[int, int]:
    with f.engine.connect() as conn:
        r = conn.execute(select(ledger_t.c.chain, ledger_t.c.n)
                         .where(ledger_t.c.kind == kind)).one()
    return r.chain, r.n


def test_without_a_checkpoint_verify_says_so_and_still_checks_the_ledger(
        services: CaseServices, engine: Engine, tmp_path: Path) -> None:
    f = fill(services, engine, tmp_path)
    assert f.verify(key=None).returncode == 0  # no key yet: no checkpoint was ever taken
    f.sql(delete(read_t))
    done = f.verify(key=None)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [
        "no checkpoint yet: a whole case deleted or a history rewritten with its hashes shows "
        "only after `relais audit checkpoint`", "2 cases, 4 events: 2 problem(s)"]


def test_checkpoints_without_the_key_cannot_be_checked(filled: Filled) -> None:
    done = filled.verify(key=None)
    assert done.returncode == 1
    assert "1 checkpoint(s) but no audit key (RELAIS_AUDIT_KEY or var/audit_key) to check " \
           "their signatures" in done.stdout
    assert not (filled.folder / "var").exists()  # verify makes no key


def test_the_checkpoint_command_signs_and_refuses_to_vouch_for_a_tampered_database(
        filled: Filled) -> None:
    signed = filled.relais("audit", "checkpoint")
    assert signed.returncode == 0
    assert signed.stdout.startswith(f"checkpoint {checkpoints(filled)[-1]} of ")
    assert signed.stdout.endswith(": 2 cases\n")
    with filled.engine.begin() as conn:
        delete_case(conn, filled.other)
    before = checkpoints(filled)
    done = filled.relais("audit", "checkpoint")
    assert done.returncode == 1
    [deleted, refused] = done.stdout.splitlines()
    assert deleted.startswith(f"case {filled.other}: deleted since the checkpoint of ")
    assert refused == "checkpoint refused"
    assert checkpoints(filled) == before


def test_the_orchestration_makes_the_key_once_and_logs_a_refusal(
        services: CaseServices, engine: Engine, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from relais.orchestrator_wiring import build_orchestrator, take_checkpoint
    from relais.settings import settings
    f = fill(services, engine, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELAIS_AUDIT_KEY", raising=False)
    settings.cache_clear()
    try:
        assert build_orchestrator(services, worker="w").checkpoint is not None
        assert build_orchestrator(services, worker="w", sweep=False).checkpoint is None
        take_checkpoint(engine)
        key = tmp_path / "var" / "audit_key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        made = key.read_text()
        with engine.begin() as conn:
            delete_case(conn, f.other)
        log = logging.getLogger("relais.orchestrator")
        log.addHandler(caplog.handler)  # Prefect's logging set-up may stop propagation
        try:
            take_checkpoint(engine)
        finally:
            log.removeHandler(caplog.handler)
        assert key.read_text() == made
        assert f"cas {f.other} : supprimé depuis le point de contrôle du" in caplog.text
        done = f.verify(key=None)  # the key made in var/audit_key, where it runs
        assert done.returncode == 1 and f"case {f.other}: deleted since" in done.stdout
    finally:
        settings.cache_clear()


def test_concurrent_writers_of_one_chain_leave_it_whole(services: CaseServices,
                                                        engine: Engine, tmp_path: Path
                                                        ) -> None:
    """Reads of one case logged from several threads at once append to one chain: each
    takes the next number (a writer that lost the race takes the one after), none fails."""
    f = fill(services, engine, tmp_path)
    queries = CaseQueries(services)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(25):
                queries.log_read(OAI, f.case, "case")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(engine)
    assert report.ok, report.problems
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(read_t)).scalar() == 2 + 150


def test_an_upgraded_database_has_its_rows_recorded_and_verifies(
        services: CaseServices, engine: Engine, tmp_path: Path) -> None:
    """The migration that brings the ledger in records every row already there."""
    from alembic import command

    from relais.migrate import alembic_config
    f = fill(services, engine, tmp_path)
    cfg = alembic_config(f.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")  # as it was: no ledger
        command.upgrade(cfg, "head")
    report = verify(engine)
    assert report.ok, report.problems
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(ledger_t.c.kind, func.count())
                                  .group_by(ledger_t.c.kind)).tuples().all())
    # two consents: the network's, given at the referral, and the one recorded after
    assert kinds == {"person": 2, "case": 2, "case_document": 1, "consent": 2,
                     "data_exchange": 3, "case_read": 2}
    f.sql(delete(read_t).where(read_t.c.id == f.reads[0]))
    assert [p for p in verify(engine).problems if "read-log entry" in p]


def test_every_checkpoint_deleted_and_the_ledger_rebuilt_is_named(filled: Filled) -> None:
    """Without the key one can rebuild a consistent ledger and delete every checkpoint; the
    key's existence then says that checkpoints are missing."""
    with filled.engine.begin() as conn:
        delete_case(conn, filled.other)
        conn.execute(delete(checkpoint_t))
        conn.execute(delete(ledger_t))
        backfill(conn, {k: columns for k, (_, columns) in COVERED.items()})
    assert verify(filled.engine).ok  # consistent, as far as anyone without the key can tell
    done = filled.verify()
    assert done.returncode == 1
    assert "1 cases but no checkpoint although an audit key exists (deleted? `relais audit " \
           "checkpoint` takes one)" in done.stdout
