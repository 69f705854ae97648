"""The ``relais`` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SPEC_EXAMPLE

BAD = Path(__file__).parent / "routes" / "bad"


def relais(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relais.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120,
                          check=False)


def test_validate_exits_zero_when_every_file_is_valid() -> None:
    done = relais("routes", "validate", str(SPEC_EXAMPLE), "workflows/routes/cmfp.yaml")
    assert (done.returncode, done.stdout) == (0, "")


def test_validate_prints_one_line_per_problem_and_exits_one() -> None:
    bad = BAD / "unknown_state_key.yaml"
    done = relais("routes", "validate", str(SPEC_EXAMPLE), str(bad),
                  env={"RELAIS_LANG": "en"})
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{bad}:12: states.ouvert: a non-final state needs a deadline",
        f"{bad}:14: states.ouvert.dedline: unknown key 'dedline'; expected one of: actions, "
        "deadline, description, final, on_deadline, outcome, owner, title",
    ]


def test_validate_speaks_french_by_default() -> None:
    done = relais("routes", "validate", str(BAD / "to_unknown_state.yaml"))
    assert "« suit » ne désigne aucun état" in done.stdout


def test_validate_speaks_the_language_of_the_environment() -> None:
    """The locale (LC_ALL, LC_MESSAGES, LANG) picks the catalogue; RELAIS_LANG wins over it;
    a locale that is none of the four (C.UTF-8) leaves French."""
    bad = str(BAD / "to_unknown_state.yaml")
    said = {lang: relais("routes", "validate", bad, env={"LANG": lang, "LC_ALL": "",
                                                         "LC_MESSAGES": ""}).stdout
            for lang in ("de_CH.UTF-8", "it_CH.UTF-8", "C.UTF-8")}
    assert "„suit“ bezeichnet keinen Zustand" in said["de_CH.UTF-8"]
    assert "«suit» non designa alcuno stato" in said["it_CH.UTF-8"]
    assert "« suit » ne désigne aucun état" in said["C.UTF-8"]
    chosen = relais("routes", "validate", bad, env={"LANG": "de_CH.UTF-8", "RELAIS_LANG": "it"})
    assert "«suit» non designa alcuno stato" in chosen.stdout


def test_validate_handles_a_missing_file_like_a_bad_one(tmp_path: Path) -> None:
    done = relais("routes", "validate", str(tmp_path / "absent.yaml"))
    assert done.returncode == 1 and done.stdout.startswith(f"{tmp_path / 'absent.yaml'}:1: ")


def test_a_hostile_file_gets_its_error_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(9)))
    start = time.perf_counter()
    done = relais("routes", "validate", str(bomb), str(BAD / "python_tag.yaml"))
    assert time.perf_counter() - start < 20
    assert done.returncode == 1 and "alias" in done.stdout and "python/object" in done.stdout


def test_show_and_diagram_describe_a_route(tmp_path: Path) -> None:
    shown = relais("routes", "show", "workflows/routes/reseau-cii.yaml")
    assert shown.returncode == 0 and "planifier" in shown.stdout and "CH-NE" in shown.stdout
    out = tmp_path / "r.svg"
    drawn = relais("routes", "diagram", "workflows/routes/reseau-cii.yaml", "--current", "plan",
                   "-o", str(out))
    assert drawn.returncode == 0 and out.read_text().startswith("<svg")
    mermaid = relais("routes", "diagram", "workflows/routes/cmfp.yaml", "--format", "mermaid")
    assert mermaid.stdout.startswith("stateDiagram-v2")


def test_publish_and_audit_on_a_database(tmp_path: Path) -> None:
    env = {"RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    mine = tmp_path / "exemple.yaml"
    mine.write_text(SPEC_EXAMPLE.read_text().replace("id: reseau-cii", "id: exemple"))
    published = relais("routes", "publish", str(mine), env=env)
    assert (published.returncode, published.stdout.strip()) == \
        (0, "exemple v1: publiée / published")
    mine.write_text(mine.read_text().replace("5 working days", "7 working days"))
    refused = relais("routes", "publish", str(mine), env=env)
    assert refused.returncode == 1 and "déjà publiée avec un autre contenu" in refused.stdout
    audit = relais("audit", "verify", env=env)
    assert audit.returncode == 0 and "0 cas" in audit.stdout


def test_a_case_is_shown_with_its_history_and_drawn(tmp_path: Path) -> None:
    env = {"RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    demo = relais("demo", "journeys", env=env)
    assert demo.returncode == 0
    from sqlalchemy import create_engine, text
    engine = create_engine(env["RELAIS_DATABASE_URL"])
    with engine.connect() as conn:
        case_id = conn.execute(text('SELECT id FROM "case" WHERE route_id = \'cmfp\'')).scalar()
    engine.dispose()
    out = tmp_path / "case.svg"
    shown = relais("cases", "show", str(case_id), "--svg", str(out), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "responsable OFIJ-NE" in shown.stdout and "handoff_accepted" in shown.stdout
    assert 'class="state current" data-state="clos"' in out.read_text()
    assert relais("cases", "show", "nope", env=env).returncode == 1


def test_migrate_is_a_dry_run_unless_applied_and_checks_its_mapping(tmp_path: Path) -> None:
    env = {"RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    bad = relais("routes", "migrate", "reseau-cii", "--from", "1", "--to", "2", "--map", "x",
                 env=env)
    assert bad.returncode == 2 and "OLD=NEW" in bad.stderr
    dry = relais("routes", "migrate", "reseau-cii", "--from", "1", "--to", "4", env=env)
    assert dry.returncode == 0 and "0 cas à migrer (essai)" in dry.stdout
    absent = relais("routes", "migrate", "reseau-cii", "--from", "3", "--to", "7", env=env)
    assert absent.returncode == 1 and "route inconnue" in absent.stderr


def test_users_are_added_listed_and_revoked(tmp_path: Path) -> None:
    env = {"RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    assert relais("db", "upgrade", env=env).returncode == 0
    added = relais("users", "add", "m.robert", "--institution", "ORP-NE", "--role",
                   "case_manager", env=env)
    token = added.stdout.strip()
    assert added.returncode == 0 and len(token) >= 40
    assert relais("users", "add", "m.robert", "--institution", "ORP-NE", "--role",
                  "case_manager", env=env).returncode == 1  # the name is taken
    assert relais("users", "add", "x", "--institution", "NOPE", "--role", "case_manager",
                  env=env).returncode == 1
    listed = relais("users", "list", env=env).stdout
    assert "m.robert" in listed and "actif" in listed and token not in listed
    assert relais("users", "revoke", "m.robert", env=env).returncode == 0
    assert "révoqué" in relais("users", "list", env=env).stdout
    assert relais("users", "revoke", "m.robert", env=env).returncode == 1


def test_the_sweep_command_handles_what_is_due(tmp_path: Path) -> None:
    from relais.wiring import build_services
    from tests.conftest import ORP, PERSON
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    services = build_services(url)
    services.open_case(route="reseau-cii", person=PERSON, actor=ORP, fields={})
    services.engine.dispose()
    env = {"RELAIS_DATABASE_URL": url}
    swept = relais("sweep", "--now", "2031-01-01T00:00:00", env=env)
    # a reminder to the owner, who then has two more working days before escalation
    assert swept.returncode == 0 and swept.stdout.startswith("1 cas traité, 1 événement, 0 ignoré")
    again = relais("sweep", "--now", "2031-01-01T00:00:00", env=env)
    # idempotent at the same moment
    assert again.stdout.startswith("0 cas traité, 0 événement, 0 ignoré")
    assert relais("audit", "verify", env=env).returncode == 0
