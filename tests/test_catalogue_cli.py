"""``relais programmes load`` and ``relais programmes list``, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.catalogue_helpers import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent


def relais(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relais.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def env(tmp_path: Path) -> dict[str, str]:
    return {"RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'relais.sqlite3'}",
            "RELAIS_LANG": "en"}


def test_the_seed_is_there_after_db_upgrade_with_its_204_places(tmp_path: Path) -> None:
    assert relais("db", "upgrade", cwd=tmp_path, env=env(tmp_path)).returncode == 0
    done = relais("programmes", "list", "--at", "2011-12-31", cwd=tmp_path, env=env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ("places on 2011-12-31: occupation 142, "
                                            "professionnel 48, socio_professionnel 14; total 204")
    assert "pet-sp-la-joliette" in done.stdout


def test_load_refuses_a_bad_file_line_by_line_and_loads_a_good_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CATALOGUE.replace('eligibility: "age >= 18"\n', 'eligibility: "age >="\n'))
    done = relais("programmes", "load", str(bad), cwd=tmp_path, env=env(tmp_path))
    assert done.returncode == 1
    assert done.stdout.startswith(f"{bad}:10: programmes[0].eligibility: for route 'reseau-cii'")
    good = tmp_path / "good.yaml"
    good.write_text(CATALOGUE)
    done = relais("programmes", "load", str(good), cwd=tmp_path, env=env(tmp_path))
    assert (done.returncode, done.stdout) == (
        0, "2 programmes: 2 added, 0 changed; periods: 3 added, 0 changed\n")
    again = relais("programmes", "load", str(good), cwd=tmp_path, env={
        **env(tmp_path), "RELAIS_LANG": "fr"})
    assert again.stdout == ("2 programmes : 0 ajoutés, 0 modifiés ; périodes : 0 ajoutées, "
                            "0 modifiées\n")
    listed = relais("programmes", "list", "--at", "2026-05-01", cwd=tmp_path, env=env(tmp_path))
    assert "atelier-recyclage" in listed.stdout and listed.stdout.endswith(
        "places on 2026-05-01: occupation 2, professionnel 5; total 7\n")
