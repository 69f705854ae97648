"""Pages in a real browser: Playwright driving Debian's chromium, against a real server.

Chromium comes from the system (``apt-get install chromium``; ``.ci/run`` installs it), never
downloaded by Playwright. Where none is found the browser tests skip with a sentence saying
how to get it; under CI=true they fail instead. Every journey saves screenshots under
``artefacts/screenshots/`` (kept by CI as the run's artefacts).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from relais.cases.domain.errors import Conflict
from relais.cases.services import CaseServices
from relais.cases.store.users import add_user, set_password
from relais.db import make_engine
from relais.wiring import load_standard_programmes, publish_standard_routes
from tests.api_server import free_port, running, wait_answering

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artefacts" / "screenshots"
PASSWORD = "mot-de-passe-de-test"
# as the probe of this machine found: without the background-networking flags chromium
# tries to reach Google's hosts through a closed network at every start
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 740}


def chromium() -> str | None:
    return os.environ.get("RELAIS_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium()
    if path is None:
        message = ("No chromium found: install Debian's with `apt-get install chromium` (or "
                   "set RELAIS_CHROMIUM to its path) to run the browser tests.")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Site:
    """A running Relais (API and pages) on a SQLite file, and a way to sign people in."""

    base: str
    services: CaseServices
    browser: object

    def person(self, name: str, institution: str, role: str = "case_manager") -> str:
        """A user with the test password (created once)."""
        with suppress(Conflict):  # already there: keep them
            add_user(self.services.engine, self.services.registry, name=name,
                     institution=institution, role=role, now=datetime.now(UTC))
        set_password(self.services.engine, name, PASSWORD)
        return name

    def signed_in(self, name: str, *, lang: str = "fr", viewport: dict[str, int] | None = None
                  ) -> object:
        """A new browser context (its own cookies) with ``name`` signed in, on their home."""
        context = self.browser.new_context(  # type: ignore[attr-defined]
            base_url=self.base, locale="fr-CH" if lang == "fr" else "en-GB",
            viewport=viewport or {"width": 1280, "height": 900})
        page = context.new_page()
        page.goto("/connexion")
        page.get_by_label("Nom d'utilisateur" if lang == "fr" else "User name").fill(name)
        page.get_by_label("Mot de passe" if lang == "fr" else "Password").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter" if lang == "fr" else "Sign in").click()
        page.wait_for_load_state()
        return page


@pytest.fixture
def site(browser: object, tmp_path: Path) -> Iterator[Site]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pages.sqlite3'}")
    from relais.migrate import upgrade
    upgrade(engine)
    services = CaseServices(engine)
    publish_standard_routes(services)
    load_standard_programmes(services)
    with running(services) as base:
        yield Site(base, services, browser)
    engine.dispose()


def csrf_of(html: str) -> str:
    """The session's CSRF token in a page's form."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "every form carries the session's CSRF token"
    return found.group(1)


def signed_in_client(base: str, name: str, password: str = PASSWORD) -> httpx.Client:
    """An httpx client signed in through the sign-in form, asking for pages as a browser
    does; the caller closes it (``with contextlib.closing(...)``)."""
    client = httpx.Client(base_url=base, timeout=30, headers={"accept": "text/html"})
    signed = client.post("/connexion", data={"name": name, "password": password,
                                             "csrf": csrf_of(client.get("/connexion").text)})
    assert signed.status_code == 303, signed.text
    return client


def shoot(page: object, name: str) -> Path:
    """Save a full-page screenshot as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


DEMO_PASSWORD = "demo-relais-2026"  # printed by the demonstration, docs/demo.md


@pytest.fixture(scope="session")
def fresh_relais(tmp_path_factory: pytest.TempPathFactory,
                 browser: object) -> Iterator[tuple[str, str]]:
    """``relais serve --demo`` (``make run DEMO=1``) in an empty folder, as a real process
    with its embedded orchestration; its address and what it printed. One for the session:
    the demonstration takes about a minute to load."""
    folder = tmp_path_factory.mktemp("fresh")
    port = free_port()
    log = folder / "serve.log"
    env = {**os.environ, "RELAIS_DATABASE_URL": f"sqlite:///{folder / 'relais.sqlite3'}",
           "PREFECT_HOME": str(folder / "prefect")}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "relais.cli", "serve", "--demo",
                                   "--port", str(port)], env=env, cwd=folder, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:  # the demonstration loads first (under a minute)
        wait_answering(base, server, "relais serve --demo", log.read_text)
        yield base, log.read_text("utf-8")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def demo_page(browser: object, base: str, name: str,
              viewport: dict[str, int] | None = None) -> object:
    """A new browser context with a demonstration user signed in, on their home page."""
    context = browser.new_context(base_url=base, locale="fr-CH",  # type: ignore[attr-defined]
                                  viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Nom d'utilisateur").fill(name)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_load_state()
    return page
