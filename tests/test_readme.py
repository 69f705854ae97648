"""The README's command-line examples run as written (those that need no database)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/relais routes ")
            and " publish " not in line and " migrate " not in line]  # those need a database


def test_the_readme_shows_the_route_commands() -> None:
    assert len(readme_commands()) >= 4


def test_each_route_command_of_the_readme_works(tmp_path: Path) -> None:
    (tmp_path / "workflows").symlink_to(ROOT / "workflows")
    for line in readme_commands():
        command = line.replace(".venv/bin/relais", f"{sys.executable} -m relais.cli")
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, check=False,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    assert (tmp_path / "route.svg").read_text().startswith("<svg")
