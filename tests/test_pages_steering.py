"""The steering group's dashboard in a real browser and over HTTP, on a small history driven
through the case services on a clock.

Day 0 is Monday 2 March 2026. Reseau-cii: R1–R7 referred by ORP-NE (AC), R8 by SSR-NE (SA);
cmfp: C1 referred by SMIG-NE (MIG), C2 by OFIJ-NE (FP); ne-eso: E1 by SSR-NE.

    day 0   all eleven opened; C1 handed to OFIJ-NE
    day 1   OFIJ-NE accepts C1                                          (flow MIG → FP)
    day 2   R1–R8 sent to triage
    day 5   R1–R6 taken on; R7 not taken on; R8 sent to OAI-NE
    day 6   OAI-NE accepts R8                                           (flow SA → AI)
    day 9   R1–R5's plans signed by AC, AI and SA, lead OAI-NE
    day 10  OAI-NE accepts the five                                     (flow AC → AI: 5)
    day 12  R1's measures start; day 15 R1 handed back to ORP-NE
    day 16  ORP-NE accepts: revolving door                              (flow AI → AC)
    (days 10 and 16: the deadline sweep reminds, then escalates C2, never sent on; day 10:
    R6 asks for a place in the test catalogue's recycling workshop)
    day 20  R1 closed with a full-time job

So March has 11 referrals (published 10), five changes of lead from AC to AI (5), and every
other count small ("<5"). The people have names and AVS numbers no page or file may show.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from relais.api import reporting
from relais.api.pages import steering_form
from relais.api.reporting.report import display
from relais.cases import steering
from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.store.users import add_user
from relais.demo import Clock, avs
from tests.browser import PHONE, Site, shoot, signed_in_client
from tests.catalogue_helpers import catalogue
from tests.conftest import COORD, NETWORK_CONSENT, OAI, OFIJ, ORP, SMIG, SSR, refer
from tests.pdf_text import pdf_lines

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
MARCH_START, APRIL_START = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
NAMES = ("Zwahlen", "Mélisande", "Kocher-Brägger", "Théophane")
FIT = {"age": 40}


@dataclass
class History:
    site: Site
    clock: Clock
    cases: list[str]

    @property
    def secrets(self) -> list[str]:
        """What no page or file may show: names, AVS numbers (both ways), case ids."""
        numbers = [avs(700000 + n) for n in range(1, 12)]
        return [*NAMES, *numbers, *(n.replace(".", "") for n in numbers), *self.cases]


def _person(n: int) -> dict[str, str]:
    return {"avs": avs(700000 + n), "official_name": NAMES[n % 2 * 2],
            "first_name": NAMES[n % 2 * 2 + 1], "birth_date": "1984-07-09"}


def _build(site: Site) -> History:
    s, clock = site.services, Clock(START)
    s.clock = clock
    h = History(site, clock, [])

    def day(n: int) -> None:
        clock.now = START + timedelta(days=n)

    def open_(n: int, route: str, who: Actor, **fields: Any) -> str:
        h.cases.append(refer(s, route=route, person=_person(n), actor=who, fields=fields,
                             consent=NETWORK_CONSENT if route == "reseau-cii" else None
                             ).case.id)
        return h.cases[-1]

    def fire(case: str, event: str, who: Actor, **inp: Any) -> None:
        s.fire(case, event, actor=who, data=EventInput(**inp))

    def accept(case: str, who: Actor) -> None:
        handoff = s.get(case).handoff
        assert handoff is not None
        s.accept_handoff(handoff.id, actor=who)

    r = [open_(i, "reseau-cii", ORP, **FIT) for i in range(1, 8)]
    r.append(open_(8, "reseau-cii", SSR, **FIT))
    c1 = open_(9, "cmfp", SMIG, age=19)
    open_(10, "cmfp", OFIJ, age=20)
    open_(11, "ne-eso", SSR)
    fire(c1, "transmettre", SMIG)
    day(1)
    accept(c1, OFIJ)
    day(2)
    for i, case in enumerate(r):
        fire(case, "transmettre", SSR if i == 7 else ORP)
    day(5)
    for case in r[:6]:
        fire(case, "retenir", COORD)
    fire(r[6], "ecarter", COORD, reason="pas un cas complexe")
    fire(r[7], "orienter", COORD, reason="AI seule", lead="OAI-NE")
    day(6)
    accept(r[7], OAI)
    day(9)
    for case in r[:5]:
        fire(case, "planifier", ORP, lead="OAI-NE")
        fire(case, "planifier", OAI)
        fire(case, "planifier", SSR)
    day(10)
    for case in r[:5]:
        accept(case, OAI)
    s.sweep_deadlines()  # C2 never sent on: reminded
    catalogue(s).request(r[5], "atelier-recyclage", actor=ORP, reason="atelier adapté")
    day(12)
    fire(r[0], "lancer", OAI)
    day(15)
    fire(r[0], "confier", OAI, lead="ORP-NE", reason="retour au placement")
    day(16)
    accept(r[0], ORP)
    s.sweep_deadlines()  # C2 escalated
    day(20)
    fire(r[0], "cloturer", ORP, outcome="emploi_plein")
    return h


@pytest.fixture
def history(site: Site) -> Iterator[History]:
    """The history above, then the site's clock at 1 December 2026 ("today")."""
    before = site.services.clock
    h = _build(site)
    h.clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    site.person("g.pilotage", "CII-NE", "steering")
    site.person("m.robert", "ORP-NE", "case_manager")
    yield h
    site.services.clock = before


def test_march_has_a_wide_band_and_small_counts(history: History) -> None:
    s = history.site.services
    f = steering.indicators(s, start=MARCH_START, end=APRIL_START)
    assert (f["referred"], f["closed"], f["revolving_door_cases"]) == (10, "<5", "<5")
    assert (f["deadline_breaches"], f["escalations"]) == ("<5", "<5")
    assert f["transfers_between_kinds"] == [
        {"from": "AC", "to": "AI", "count": 5}, {"from": "AI", "to": "AC", "count": "<5"},
        {"from": "MIG", "to": "FP", "count": "<5"}, {"from": "SA", "to": "AI", "count": "<5"}]


def _client(site: Site, name: str) -> closing[httpx.Client]:
    """An httpx client signed in as ``name`` through the sign-in form, as a browser is."""
    return closing(signed_in_client(site.base, name))


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _xlsx_values(body: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(body))
    return [v for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for v in row if v is not None]


def test_a_steering_user_reads_one_route_in_march_and_takes_the_tables_away(
        history: History) -> None:
    site = history.site
    page: Any = site.signed_in("g.pilotage")
    assert page.url == f"{site.base}/pilotage"
    # the last 12 months up to today (1 December 2026), in Swiss dates
    assert page.get_by_role("heading", name="02.12.2025 – 01.12.2026 · Toutes les routes",
                            exact=True).is_visible()
    # a date field's segments follow the browser's own language, not the page's: the days
    # are filled, the rest is the keyboard's
    # a start after the end: the message next to the field, the figures withheld
    page.get_by_label("Du", exact=True).fill("2026-04-01")
    page.get_by_label("Au (inclus)", exact=True).fill("2026-03-31")
    page.get_by_role("button", name="Afficher les chiffres").press("Enter")
    page.wait_for_url("**/pilotage?from=2026-04-01&to=2026-03-31&route=")
    start = page.get_by_label("Du", exact=True)
    assert start.get_attribute("aria-invalid") == "true"
    assert page.locator("#" + start.get_attribute("aria-describedby")).inner_text() == \
        "Le début doit précéder la fin (ou tomber le même jour)."
    shoot(page, "steering-dashboard-error")
    start.fill("2026-03-01")
    page.get_by_label("Route", exact=True).focus()
    page.keyboard.type("R")  # type-ahead: "Réseau CII — cas complexe (MAMAC)"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Afficher les chiffres"
    page.keyboard.press("Enter")
    page.wait_for_url("**/pilotage?from=2026-03-01&to=2026-03-31&route=reseau-cii")
    assert page.get_by_role("heading", name="01.03.2026 – 31.03.2026 · Réseau CII — cas "
                            "complexe (MAMAC)").is_visible()
    review = page.get_by_role("region", name="Indicateurs (forme du bilan de législature)")
    assert review.get_by_role("row", name="Dossiers annoncés 10").is_visible()
    assert review.get_by_role("row", name="Situations clôturées <5").is_visible()
    sankey = page.get_by_role("img", name=re.compile("^Changements de responsable"))
    assert sankey.locator("path.flow").count() == 3  # AC → AI, AI → AC, SA → AI
    assert "AC vers AI : 5" in sankey.get_attribute("aria-label")
    shoot(page, "steering-dashboard")

    with page.expect_download() as csv_file:
        page.get_by_role("link", name="CSV : Indicateurs (forme du bilan de législature)"
                         ).focus()
        page.keyboard.press("Enter")
    assert csv_file.value.suggested_filename == \
        "relais-pilotage-review-reseau-cii-2026-03-01-2026-03-31.csv"
    rows = _rows(open(csv_file.value.path(), encoding="utf-8-sig").read())  # noqa: SIM115
    assert rows[4] == ["Indicateur", "Nombre"]  # under the title, period, route and rule
    assert ["Dossiers annoncés", "10"] in rows and ["Situations clôturées", "<5"] in rows

    with page.expect_download() as xlsx_file:
        page.get_by_role("link", name="XLSX : Changements de responsable entre genres "
                         "d'institution").click()
    assert xlsx_file.value.suggested_filename == \
        "relais-pilotage-transfers-reseau-cii-2026-03-01-2026-03-31.xlsx"
    with open(xlsx_file.value.path(), "rb") as f:
        values = _xlsx_values(f.read())
    assert "Route : Réseau CII — cas complexe (MAMAC)" in " ".join(map(str, values))
    # AC → AI and the total (7, published 5) as numbers; AI → AC and SA → AI as text
    assert values.count(5) == 2 and values.count("<5") == 2

    page.get_by_role("link", name="Rapport imprimable (HTML)").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == \
        "Rapport au groupe de pilotage CII"
    assert page.locator("section#flows svg path.flow").count() == 3
    shoot(page, "steering-report")

    phone: Any = site.signed_in("g.pilotage", viewport=PHONE)
    phone.goto("/pilotage?from=2026-03-01&to=2026-03-31&route=reseau-cii")
    # nothing wider than the phone but the tables, which scroll inside their frame
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.get_by_role("img", name=re.compile("^Changements")).bounding_box()
    assert box["width"] <= PHONE["width"] - 20
    shoot(phone, "steering-dashboard-phone")
    phone.get_by_role("link", name="English").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", level=1).inner_text() == "Steering dashboard"
    assert phone.get_by_role("heading", name="Indicators (as in the Neuchâtel review)"
                             ).is_visible()
    assert phone.get_by_label("To (included)", exact=True).input_value() == "2026-03-31"


EXPORTS = ("/pilotage/tableaux/review.csv", "/pilotage/tableaux/review.xlsx",
           "/pilotage/tableaux.xlsx", "/pilotage/rapport.html", "/pilotage/rapport.pdf")


def test_a_case_manager_is_refused_the_dashboard_and_every_export(history: History) -> None:
    with _client(history.site, "m.robert") as c:
        for path in ("/pilotage", *EXPORTS):
            answer = c.get(path, params=MARCH)
            assert answer.status_code == 403, path
            assert "Cette page n&#39;est pas ouverte à votre rôle." in answer.text
            assert "Dossiers annoncés" not in answer.text
    with httpx.Client(base_url=history.site.base) as anonymous:
        answer = anonymous.get("/pilotage/tableaux.xlsx", params=MARCH)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/connexion?suite=/pilotage/tableaux.xlsx")


def _field_error(html: str, field: str) -> str:
    """The message next to a field, once the field points at it."""
    found = re.search(rf'id="erreur-{field}">([^<]+)</p>', html)
    assert found, f"a message next to {field}"
    assert f'aria-invalid="true" aria-describedby="erreur-{field}"' in html
    return found.group(1)


TO_FIX = [  # (query, the field to fix, the start of its message)
    ({"from": "2026-04-01", "to": "2026-03-31"}, "from", "Le début doit précéder la fin"),
    ({"from": "1899-12-31"}, "from", "Choisissez une date entre 1900 et 2200."),
    ({"to": "22010-01-01"}, "to", "Choisissez une date entre 1900 et 2200."),
    ({"to": "31.02.2026"}, "to", "Date invalide"),
    ({"from": "hier", "to": "2026-03-31"}, "from", "Date invalide"),
    ({"route": "inconnue"}, "route", "Route inconnue"),
]


def test_a_choice_to_fix_is_answered_422_with_the_message_next_to_its_field(
        history: History) -> None:
    with _client(history.site, "g.pilotage") as c:
        for query, field, message in TO_FIX:
            for path in ("/pilotage", "/pilotage/tableaux/review.csv", "/pilotage/rapport.pdf"):
                answer = c.get(path, params=query)
                assert answer.status_code == 422, (path, query)
                assert answer.headers["content-type"].startswith("text/html")
                assert _field_error(answer.text, field).startswith(message)
                assert "Dossiers annoncés" not in answer.text  # no figures of a wrong choice
                for name, value in query.items():  # what was typed stays, to be corrected
                    assert name == "route" or f'value="{value}"' in answer.text
        unknown = c.get("/pilotage/tableaux/inconnu.csv", params=MARCH)
        assert unknown.status_code == 404 and "Ce tableau n&#39;existe pas" in unknown.text


def test_a_period_typed_the_swiss_way_or_left_empty_is_understood(history: History) -> None:
    with _client(history.site, "g.pilotage") as c:
        typed = c.get("/pilotage", params={"from": "01.03.2026", "to": "31.03.2026"})
        assert typed.status_code == 200
        assert "<h2 id=\"chiffres-titre\">01.03.2026 – 31.03.2026 · Toutes les routes</h2>" \
            in typed.text
        assert 'value="2026-03-01"' in typed.text  # as a date field reads it
        empty = c.get("/pilotage", params={"from": "", "to": "", "route": ""})
        assert "02.12.2025 – 01.12.2026 · Toutes les routes" in empty.text


def _pdf_text(pdf: bytes) -> str:
    """The text of the PDF, read through its Unicode maps (the fonts are embedded subsets)."""
    return "\n".join(line.text for line in pdf_lines(pdf))


def _xlsx_text(book: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        return "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))


def _text(answer: httpx.Response) -> str:
    kind = answer.headers["content-type"]
    if kind.startswith("application/pdf"):
        return _pdf_text(answer.content)
    if kind.startswith("application/vnd.openxmlformats"):
        return unescape(_xlsx_text(answer.content))
    return unescape(answer.content.decode("utf-8-sig"))


def test_no_page_or_file_shows_a_persons_name_avs_number_or_case_id(history: History) -> None:
    with _client(history.site, "g.pilotage") as c:
        for route in ("", "reseau-cii", "cmfp"):
            query = {**MARCH, "route": route}
            page = c.get("/pilotage", params=query)
            keys = re.findall(r'data-table="([a-z_]+)"', page.text)
            assert len(keys) >= 10 and keys[0] == "review"
            answers = [page, *(c.get(f"/pilotage/tableaux/{k}.{ext}", params=query)
                               for k in keys for ext in ("csv", "xlsx")),
                       *(c.get(path, params=query) for path in EXPORTS[2:])]
            c.get("/langue/en")
            answers.append(c.get("/pilotage", params=query))
            c.get("/langue/fr")
            texts = []
            for answer in answers:
                assert answer.status_code == 200, answer.url
                texts.append(_text(answer))
                for secret in history.secrets:
                    assert secret not in texts[-1], (answer.url, secret)
            assert sum("<5" in text for text in texts) > len(keys)  # the figures are there


def _page_cells(html: str, key: str) -> list[list[str]]:
    """A table's rows on the page, each cell's text as shown."""
    section = html.split(f'data-table="{key}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[unescape(cell) for cell in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_small_counts_and_files_are_those_the_api_publishes(history: History) -> None:
    """The page draws the published answer's cells as they are ("<5" never recomputed) and
    serves the API's very files under the API's names."""
    s = history.site.services
    token = add_user(s.engine, s.registry, name="programme-pilotage", institution="CII-NE",
                     role="steering", now=datetime.now(UTC))
    query = {**MARCH, "route": "reseau-cii"}
    published = steering.indicators(s, start=MARCH_START,
                                     end=APRIL_START, route="reseau-cii")
    tables = reporting.steering_tables(published, reporting.route_titles(s), "fr")
    with _client(history.site, "g.pilotage") as c, httpx.Client(
            base_url=history.site.base, headers={"Authorization": f"Bearer {token}"}) as api:
        page = c.get("/pilotage", params=query).text
        for table in tables:
            kinds = [col.kind for col in table.columns]
            assert _page_cells(page, table.key) == [
                [display(v, kind, "fr") for v, kind in zip(row.cells, kinds, strict=True)]
                for row in table.rows], table.key
            mine = c.get(f"/pilotage/tableaux/{table.key}.csv", params=query)
            theirs = api.get(f"/api/steering/tables/{table.key}.csv", params=query)
            assert mine.content == theirs.content
            assert mine.headers["content-disposition"] == theirs.headers["content-disposition"]
        assert [row.cells[1] for row in tables[0].rows].count("<5") >= 5
        for mine_path, api_path in (("/pilotage/tableaux/durations.xlsx",
                                     "/api/steering/tables/durations.xlsx"),
                                    ("/pilotage/tableaux.xlsx", "/api/steering/tables.xlsx"),
                                    ("/pilotage/rapport.pdf", "/api/steering/report.pdf")):
            mine, theirs = c.get(mine_path, params=query), api.get(api_path, params=query)
            assert mine.headers["content-disposition"] == theirs.headers["content-disposition"]
            assert mine.headers["content-type"] == theirs.headers["content-type"]
        mine = c.get("/pilotage/rapport.html", params=query)
        assert mine.text == api.get("/api/steering/report.html", params=query).text
        assert mine.headers["content-security-policy"].startswith("default-src 'none'")


ROUTES = ("cmfp", "reseau-cii")
DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(DAYS, DAYS, st.sampled_from(("", *ROUTES)), st.booleans())
def test_any_two_days_are_a_period_or_a_message_on_the_start(
        a: date, b: date, route: str, swiss: bool) -> None:
    def typed(d: date) -> str:
        return d.strftime("%d.%m.%Y") if swiss else d.isoformat()
    form = steering_form.read({"from": typed(a), "to": typed(b), "route": route},
                              date(2026, 12, 1), ROUTES)
    if a <= b:
        assert form.choice == steering_form.Choice(a, b, route or None) and not form.errors
        assert steering_form.read(dict(parse_qsl(form.choice.query, keep_blank_values=True)),
                                  date(2026, 12, 1), ROUTES).choice == form.choice
    else:
        assert form.choice is None and form.errors == {"from": steering_form.AFTER_END}


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2200, 12, 31)))
def test_the_default_period_is_the_last_twelve_months_up_to_today(today: date) -> None:
    first, last = steering_form.default_period(today)
    assert last == today and 365 <= (last - first).days + 1 <= 366
    year_ago = first - timedelta(days=1)  # the same day a year before (28 for a 29 February)
    assert (year_ago.year, year_ago.month) == (today.year - 1, today.month)
    assert year_ago.day == today.day or (today.month, today.day, year_ago.day) == (2, 29, 28)


@given(st.text(max_size=30))
def test_whatever_is_typed_as_a_date_gives_a_day_or_a_message(text: str) -> None:
    day = steering_form.parse_day(text)
    assert (isinstance(day, date) and 1900 <= day.year <= 2200) or day in (
        steering_form.MALFORMED, steering_form.OUT_OF_RANGE)
