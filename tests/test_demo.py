"""The demonstration's journeys (``relais demo journeys``) run A, B and C end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from relais.cases.store.tables import case_t, consent_t, event_t
from relais.db import make_engine


def test_the_demo_runs_journeys_a_b_and_c_and_the_audit_holds(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "relais.cli", "demo", "journeys"],
                          cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "RELAIS_DATABASE_URL":
                               f"sqlite:///{tmp_path / 'var' / 'relais.sqlite3'}"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for title in ("━━ A", "━━ B", "━━ C"):
        assert title in out
    assert "OAI accepte : devient responsable" in out
    assert "« revoir » part tout seul" in out
    assert "Audit : 3 cas, 35 événements, chaîne de hachage et rejeu intègres" in out
    assert (tmp_path / "var" / "relais.sqlite3").exists()


def test_the_demo_records_the_persons_consent_to_the_network_at_each_referral(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'relais.sqlite3'}"
    done = subprocess.run([sys.executable, "-m", "relais.cli", "demo", "journeys"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "RELAIS_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        referred = conn.execute(select(case_t.c.id, case_t.c.route_version, event_t.c.institution)
                                .join(event_t, event_t.c.case_id == case_t.c.id)
                                .where(case_t.c.route_id == "reseau-cii",
                                       event_t.c.kind == "case_opened")).all()
        consents = {r.case_id: r for r in conn.execute(select(consent_t))}
    engine.dispose()
    assert len(referred) == 2 and {r.route_version for r in referred} == {4}
    for case_id, _, referrer in referred:  # A by the ORP, B by the SSR of La Chaux-de-Fonds
        given = consents[case_id]
        assert given.recorded_by_institution == referrer and "CII-NE" in given.recipients
        assert {"identite", "situation"} <= set(given.categories)
