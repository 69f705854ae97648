"""One ``relais`` namespace: the repository's top-level folders (cases/, api/, …) are symbolic
links to the sub-packages of ``relais``; nothing may import them under their bare names, which
would load every module twice (two ``CaseState`` classes) and break once installed."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.api_server import relais_served

ROOT = Path(__file__).resolve().parents[1]
BARE = ("api", "cases", "workflows", "conventions", "institutions", "orchestration",
        "migrations", "templates")

LOAD_ALL = """
import importlib, pkgutil, sys
import relais
for m in pkgutil.walk_packages(relais.__path__, "relais."):
    if not m.name.startswith("relais.migrations"):  # Alembic runs env.py itself
        importlib.import_module(m.name)
from relais.institutions.calendar import calendar
from relais.institutions.registry import default_registry
from relais.wiring import standard_programmes_text, standard_route_texts
assert standard_route_texts() and standard_programmes_text() and default_registry()
calendar("CH-NE")
print(sorted({n.split('.')[0] for n in sys.modules} & set(sys.argv[1:])))
"""


def test_the_top_level_folders_are_links_into_the_relais_package() -> None:
    for name in BARE:
        assert (ROOT / name).is_symlink() and (ROOT / name).resolve() == ROOT / "relais" / name


def test_every_module_imports_from_an_empty_folder_without_a_bare_top_level_name(
        tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", LOAD_ALL, *BARE], cwd=tmp_path, text=True,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.server
def test_the_wheel_runs_from_an_empty_folder_in_a_clean_environment(tmp_path: Path) -> None:
    """As a canton's IT service installs it: the wheel built from the checkout, installed
    with its runtime dependencies only into a new virtual environment, ``relais serve`` run
    from an empty folder answers with the sign-in page; one ``relais`` in site-packages."""
    dist, env_dir, empty = tmp_path / "dist", tmp_path / "venv", tmp_path / "empty"
    empty.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist),
         str(ROOT)])
    (wheel,) = dist.glob("relais_cii-*.whl")
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/")[0] for n in z.namelist()}
        assert tops == {"relais", wheel.name.split("-py3")[0] + ".dist-info"}
        assert {"relais/templates/pages/signin.html.j2", "relais/api/static/relais.css",
                "relais/templates/fonts/DejaVuSans.ttf", "relais/migrations/env.py",
                "relais/workflows/routes/reseau-cii.yaml"} <= set(z.namelist())
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
         str(wheel)])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}:{env['PATH']}"
    where = run([python, "-c", "import relais; print(relais.__file__)"], cwd=empty)
    assert where.startswith(str(env_dir))  # the installed package, not the checkout
    installed = run([python, "-m", "pip", "list", "--format=freeze"], cwd=empty).lower()
    assert "pytest" not in installed and "playwright" not in installed  # no dev extras
    assert run([str(env_dir / "bin" / "relais"), "--version"], cwd=empty).startswith(
        "relais-cii ")
    with relais_served(empty, env, python=python) as base:
        page = httpx.get(f"{base}/connexion", timeout=30)
        assert page.status_code == 200 and 'name="password"' in page.text
        assert httpx.get(f"{base}/static/relais.css", timeout=30).status_code == 200
    assert (empty / "var").is_dir()  # the embedded database where the operator runs it


def run(command: list[str], cwd: Path | None = None) -> str:
    out = subprocess.run(command, cwd=cwd, text=True, capture_output=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()
