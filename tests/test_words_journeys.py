"""Words, not codes (issue 13): the demonstration's three journeys (relais/demo.py: A and B
on reseau-cii, C on cmfp; ne-eso's referral form too) walked as their users, every page they
see on the way read as a person reads it (the visible text: not attributes, not hidden
inputs, not scripts), and none shows one of the routes' codes: a state, event, field,
outcome or enum value's name, an action or document kind, as written in the route file or
as its underscores read as spaces ("certificats medicaux")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from relais import demo
from relais.cases.domain.results import DOCUMENT_KINDS
from relais.cases.services import CaseServices
from relais.cases.store.users import add_user, set_password
from relais.db import make_engine
from relais.migrate import upgrade
from relais.orchestration.actions import ACTIONS
from relais.wiring import load_standard_programmes, publish_standard_routes
from relais.workflows.engine.model import Route
from tests.api_server import running
from tests.browser import PASSWORD, signed_in_client

ROUTES = ("reseau-cii", "cmfp", "ne-eso")
USERS = [demo.ORP, demo.OAI, demo.SSR, demo.SSR_NE, demo.ORP_LCF, demo.OFIJ, demo.SMIG,
         demo.COORD]
SKIPPED = {"script", "style", "template", "head"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class VisibleText(HTMLParser):
    """The text a person reads: outside scripts, styles and elements marked ``hidden``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: whether its content is hidden
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        hidden = (bool(self.stack) and self.stack[-1]) or tag in SKIPPED or any(
            k == "hidden" for k, _ in attrs)
        self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def codes_of(route: Route) -> set[str]:
    """The route's names: states, events, fields, outcomes, enum values, actions."""
    names = {*route.states, *(t.event for t in route.transitions), *route.fields,
             *route.outcomes}
    for spec in route.fields.values():
        names.update(spec.type.values)
    for state in route.states.values():
        names.update(state.actions)
    names.update(ACTIONS)
    return names


def french_titles(route: Route) -> str:
    """Every French title the route gives, in lower case: a code whose underscores read as
    spaces spells one of them ("aide sociale", "fin de droit") is also plain French."""
    titles: list[Any] = [route.title, *route.outcomes.values()]
    titles += [s.title for s in route.states.values()]
    titles += [t.title for t in route.transitions]
    for spec in route.fields.values():
        titles += [spec.title, *spec.value_titles.values()]
    return " | ".join(t["fr"] for t in titles if t).lower()


def found_codes(text: str, codes: set[str], plain: str = "") -> list[str]:
    """The codes ``text`` shows, as written or with their underscores read as spaces; a
    name the route's own French titles use as words ("triage", "aide sociale") is a word."""
    out = []
    for code in sorted(codes):
        spaced = code.replace("_", " ")
        for form in dict.fromkeys((code, spaced)):
            said = rf"(?<![\w-]){re.escape(form)}(?![\w-])"
            if (" " in form or "_" not in form) and re.search(said, plain):
                continue  # the route's own French says it so
            if re.search(said, text):
                out.append(form)
    return out


def kinds_shown(text: str) -> list[str]:
    """Document kinds as codes: "(letter, …)" as the issue saw them."""
    return [k for k in DOCUMENT_KINDS if re.search(rf"\({k}\b", text)]


class Walker:
    """The journeys' users, signed in to the served pages, reading every page they may
    see after each step; what each page showed of the codes."""

    def __init__(self, base: str, services: CaseServices, codes: set[str], plain: str) -> None:
        self.base, self.s, self.codes, self.plain = base, services, codes, plain
        self.clients: dict[str, httpx.Client] = {}
        self.found: dict[str, list[str]] = {}
        self.in_markup: set[str] = set()  # codes in attributes and hidden inputs: allowed
        self.pages = self.documents = 0

    def client(self, user: str) -> httpx.Client:
        if user not in self.clients:
            self.clients[user] = signed_in_client(self.base, user)
        return self.clients[user]

    def read(self, user: str, path: str) -> str | None:
        answer = self.client(user).get(path)
        if answer.status_code in (302, 303):  # the simulated months ended the session
            self.clients.pop(user).close()
            answer = self.client(user).get(path)
        if answer.status_code in (403, 404):
            return None
        assert answer.status_code == 200, (user, path, answer.status_code)
        self.pages += 1
        text = visible_text(answer.text)
        self.in_markup.update(c for c in self.codes if f'"{c}"' in answer.text)
        shown = found_codes(text, self.codes, self.plain) + kinds_shown(text)
        if shown:
            self.found.setdefault(f"{user} {path}", shown)
        return answer.text

    def step(self, case_id: str) -> None:
        for who in USERS:
            page = self.read(who.user, f"/dossiers/{case_id}")
            if page is None:
                continue
            for document in sorted(set(re.findall(rf'href="(/dossiers/{case_id}/documents/'
                                                  rf'\d+)"', page))):
                self.documents += 1
                self.read(who.user, document)
            self.read(who.user, "/dossiers")
            if who.role.value == "coordinator" or who.institution == self.s.get(case_id).lead:
                self.read(who.user, f"/dossiers/{case_id}/consultations")
        self.read(demo.COORD.user, "/coordination")

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


@contextmanager
def walking(services: CaseServices, base: str, codes: set[str], plain: str
            ) -> Iterator[Walker]:
    """Journey.show (called after each step of a journey) also lets the users read."""
    walker = Walker(base, services, codes, plain)
    shown = demo.Journey.show

    def show_and_read(self: demo.Journey, out: Any, what: str) -> Any:
        result = shown(self, out, what)
        walker.step(out.case.id)
        return result

    demo.Journey.show = show_and_read  # type: ignore[method-assign]
    try:
        yield walker
    finally:
        demo.Journey.show = shown  # type: ignore[method-assign]
        walker.close()


@pytest.fixture
def demo_services(tmp_path: Path) -> Iterator[tuple[CaseServices, demo.Clock]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'words.sqlite3'}")
    upgrade(engine)
    clock = demo.Clock(datetime(2026, 1, 12, 8, 30, tzinfo=UTC))
    services = CaseServices(engine, clock=clock)
    publish_standard_routes(services)
    load_standard_programmes(services)
    for who in USERS:
        add_user(engine, services.registry, name=who.user, institution=who.institution,
                 role=who.role.value, now=clock.now)
        set_password(engine, who.user, PASSWORD)
    yield services, clock
    engine.dispose()


def test_no_route_code_on_the_pages_of_the_three_journeys(
        demo_services: tuple[CaseServices, demo.Clock]) -> None:
    services, clock = demo_services
    routes = [r for r in services.routes_published(latest=True) if r.id in ROUTES]
    codes = {c for r in routes for c in codes_of(r)}
    plain = " | ".join(french_titles(r) for r in routes)
    assert {"solution_trouvee", "certificats_medicaux", "admission_provisoire"} <= codes
    with running(services) as base, walking(services, base, codes, plain) as walker:
        for journey in (demo.journey_a, demo.journey_b, demo.journey_c):
            clock.now = datetime(2026, 1, 12, 8, 30, tzinfo=UTC)
            journey(services, clock)
        for who, route in [(demo.ORP, "reseau-cii"), (demo.OFIJ, "cmfp"), (demo.SSR, "ne-eso")]:
            walker.read(who.user, f"/dossiers/nouveau?route={route}")
        walker.read(demo.COORD.user, "/routes")
    assert walker.pages > 100  # the walk read the journeys' pages, not a login page
    # the pages carry the codes where people do not read them (form values): the scan
    # would see them, were they in the text
    assert {"certificats_medicaux", "solution_trouvee", "admission_provisoire"} <= \
        walker.in_markup
    assert walker.found == {}, "\n".join(f"{k}: {v}" for k, v in walker.found.items())


def test_the_scan_sees_a_code_in_text_and_not_in_attributes() -> None:
    html = ('<p title="solution_trouvee">Solution trouvée</p><input type="hidden" '
            'value="certificats_medicaux"><div hidden>demande_ai</div>'
            '<script>var x = "refugie_x";</script><p>signal : certificats medicaux</p>')
    text = visible_text(html)
    codes = {"solution_trouvee", "certificats_medicaux", "demande_ai"}
    assert found_codes(text, codes) == ["certificats medicaux"]
    assert found_codes(text, codes, plain="certificats medicaux reconnus") == []
