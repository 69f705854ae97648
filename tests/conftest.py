"""Test fixtures: a real database per test, on SQLite always and on PostgreSQL when reachable.

Under CI=true a missing PostgreSQL fails the run instead of skipping: CI must test both.
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING

# Prefect keeps its own database: one per test run, shared by the processes tests start
# (set before anything imports Prefect, which reads its settings at import)
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="relais-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # flow runs are in Prefect's DB

import pytest
from sqlalchemy import Engine, create_engine, text

from relais.cases.services import CaseServices, Outcome
from relais.cases.sharing import ReferralConsent, Sharing
from relais.db import make_engine
from relais.demo import Clock, actor
from relais.institutions.registry import Kind, Role
from relais.migrate import upgrade
from relais.wiring import publish_standard_routes

if TYPE_CHECKING:
    from tests.api_server import People

pytest_plugins = ["tests.browser"]  # the browser, the running site, screenshots

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PG_ADMIN_URL = os.environ.get("RELAIS_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_reachable() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"


def require_postgres() -> None:
    why = postgres_reachable()
    if why is None:
        return
    message = (f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({why}). Start it with: "
               f"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "relais.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    require_postgres()
    name = f"relais_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


TABLES = ("outbox", "deadline", "handoff", "case_event", '"case"', "person", "route_version",
          "app_user", "case_read", "consent", "data_exchange", "action_effect", "case_document",
          "case_task", "case_measure", "programme_place", "programme", "page_session",
          "sign_in_tally", "ledger", "audit_checkpoint", "case_contact")


def emptied_postgres(url: str) -> Engine:
    eng = make_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    return eng


# -- markers: what a test needs beyond Python (pyproject.toml lists them; `make test-fast`
# leaves these out). Set here from what each test uses, so a new test is marked as it is
# written; a module may add `pytestmark` where its code cannot tell.
BROWSER_FIXTURES = {"browser"}
POSTGRES_FIXTURES = {"postgres_url"}
# names whose use starts a server in a thread (the API's, tests/api_server.py; the mail
# server and the Prefect runtime, tests/orchestration_helpers.py) or another process
STARTS_A_PROCESS = {"running", "smtp_server", "runtime", "relais_process", "subprocess",
                    "Popen"}
TESTS = str(Path(__file__).parent)


def starts_a_process(obj: object, seen: set[int]) -> bool:
    """Whether a function (or class) of the tests names a server or a subprocess, itself or
    through the test helpers and fixtures it calls."""
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, type):
        return any(starts_a_process(v, seen) for v in vars(obj).values() if callable(v))
    func = inspect.unwrap(obj)  # type: ignore[arg-type]
    code, scope = getattr(func, "__code__", None), getattr(func, "__globals__", {})
    if code is None or not code.co_filename.startswith(TESTS):
        return False
    return code_starts(code, scope, seen)


def code_starts(code: CodeType, scope: dict[str, object], seen: set[int]) -> bool:
    if STARTS_A_PROCESS & set(code.co_names):
        return True
    return any(code_starts(c, scope, seen) for c in code.co_consts if isinstance(c, CodeType)
               ) or any(starts_a_process(scope[n], seen) for n in code.co_names if n in scope)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        used = set(item.fixturenames)
        defs = [d for ds in item._fixtureinfo.name2fixturedefs.values() for d in ds]
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        seen: set[int] = set()
        if any(starts_a_process(f, seen) for f in (item.function, *(d.func for d in defs))):
            item.add_marker(pytest.mark.server)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a fresh SQLite file, or a truncated PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "relais.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = emptied_postgres(request.getfixturevalue("postgres_url"))
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def people(services: CaseServices) -> Iterator[People]:
    """A real HTTP server on ``services`` and a client per (institution, role) of it."""
    from tests.api_server import People, running
    with running(services) as base:
        team = People(services, base)
        yield team
        team.close()


@pytest.fixture
def services(engine: Engine, clock: Clock) -> CaseServices:
    s = CaseServices(engine, clock=clock)
    publish_standard_routes(s)
    return s


ORP = actor("orp", "ORP-NE", Kind.AC)
ORP_LCF = actor("orp2", "ORP-LCF", Kind.AC)
OAI = actor("oai", "OAI-NE", Kind.AI)
SSR = actor("ssr", "SSR-NE", Kind.SA)
SSR_LCF = actor("ssr2", "SSR-LCF", Kind.SA)
OFIJ = actor("ofij", "OFIJ-NE", Kind.FP)
SMIG = actor("smig", "SMIG-NE", Kind.MIG)
COORD = actor("coord", "CII-NE", Kind.CII, Role.coordinator)
STEERING = actor("gp", "CII-NE", Kind.CII, Role.steering)

PERSON = {"avs": "756.1234.5678.97", "official_name": "Muster", "first_name": "Jean",
          "birth_date": "1978-05-01"}
SPEC_EXAMPLE = Path(__file__).parent / "routes" / "spec_example.yaml"
NETWORK_CONSENT = ReferralConsent("Jean Muster")


def refer(services: CaseServices, consent: ReferralConsent | None = NETWORK_CONSENT,
          **kw: object) -> Outcome:
    """A referral with the person's consent to the CII network recorded with it, as the
    form and POST /api/cases record it (reseau-cii's guards read it)."""
    return Sharing(services).refer(consent=consent, **kw)  # type: ignore[arg-type]
