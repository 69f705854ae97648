"""The demonstration's journeys (``relais demo journeys``) run A, B and C end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
    assert "Audit : 3 cas, 38 événements, chaîne de hachage et rejeu intègres" in out
    assert (tmp_path / "var" / "relais.sqlite3").exists()
