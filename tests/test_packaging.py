"""One ``relais`` namespace: the repository's top-level folders (cases/, api/, …) are symbolic
links to the sub-packages of ``relais``; nothing may import them under their bare names, which
would load every module twice (two ``CaseState`` classes) and break once installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
