"""The steering tables, their CSV and XLSX, the flow diagram and the report, over real HTTP
on SQLite and PostgreSQL, from a history driven through the case services on a clock.

Day 0 is Monday 2 March 2026. Reseau-cii: R1–R6 referred by ORP-NE, R7 by SSR-NE; cmfp:
C1 by SMIG-NE, C2 by OFIJ-NE. Every count of March is then small ("<5") but the referrals
(10) and the triage decisions taken on (5). The people have names and AVS numbers that no
output may show.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from relais.api import reporting
from relais.api.reporting import sankey
from relais.api.reporting.labels import Titles
from relais.cases import steering
from relais.cases.domain.actors import Actor
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices
from relais.demo import Clock, avs
from tests.api_server import People, running
from tests.catalogue_helpers import catalogue
from tests.conftest import COORD, NETWORK_CONSENT, OAI, OFIJ, ORP, SMIG, SSR, refer
from tests.pdf_text import pdf_lines
from tests.wcag import blend, contrast

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
NAMES = ("Zwahlen", "Mélisande", "Kocher-Brägger", "Théophane")
REASON = "souffre d'une dépression sévère"  # free text of a case: never in a figure
FIT = {"age": 40}


def person(n: int) -> dict[str, str]:
    return {"avs": avs(600000 + n), "official_name": NAMES[n % 2 * 2],
            "first_name": NAMES[n % 2 * 2 + 1], "birth_date": "1986-05-04"}


class History:
    def __init__(self, s: CaseServices, clock: Clock) -> None:
        self.s, self.clock, self.start = s, clock, clock.now
        self.ids: list[str] = []

    def day(self, n: int) -> None:
        self.clock.now = self.start + timedelta(days=n)

    def open(self, n: int, route: str, who: Actor, **fields: Any) -> str:
        case = refer(self.s, route=route, person=person(n), actor=who, fields=fields,
                     reason=REASON, consent=NETWORK_CONSENT if route == "reseau-cii"
                     else None).case.id
        self.ids.append(case)
        return case

    def fire(self, case: str, event: str, who: Actor, **inp: Any) -> None:
        self.s.fire(case, event, actor=who, data=EventInput(**inp))

    def handoff(self, case: str) -> str:
        handoff = self.s.get(case).handoff
        assert handoff is not None
        return handoff.id


def build(s: CaseServices, clock: Clock) -> History:
    h = History(s, clock)
    r = [h.open(i, "reseau-cii", ORP, **FIT) for i in range(1, 7)]
    r.append(h.open(7, "reseau-cii", SSR, **FIT))
    c1 = h.open(8, "cmfp", SMIG, age=19)
    h.open(9, "cmfp", OFIJ, age=20)
    h.fire(c1, "transmettre", SMIG)
    h.day(1)
    s.accept_handoff(h.handoff(c1), actor=OFIJ)
    h.day(2)
    for i, case in enumerate(r):
        h.fire(case, "transmettre", SSR if i == 6 else ORP)
    h.day(3)
    h.fire(c1, "ecarter", OFIJ, reason=REASON)
    h.day(5)
    for case in r[:5]:
        h.fire(case, "retenir", COORD)
    h.fire(r[5], "ecarter", COORD, reason=REASON)
    h.fire(r[6], "orienter", COORD, reason=REASON, lead="OAI-NE")
    h.day(6)
    s.accept_handoff(h.handoff(r[6]), actor=OAI)
    h.day(8)
    h.fire(r[1], "interrompre", ORP, outcome="abandon", reason=REASON)
    h.day(9)
    for who in (ORP, OAI, SSR):
        h.fire(r[0], "planifier", who, **({"lead": "OAI-NE"} if who is ORP else {}))
    h.day(10)
    s.accept_handoff(h.handoff(r[0]), actor=OAI)
    s.sweep_deadlines()
    catalogue(s).request(r[2], "atelier-recyclage", actor=ORP, reason=REASON)
    h.day(20)
    h.fire(r[0], "lancer", OAI)
    h.fire(r[0], "cloturer", OAI, outcome="emploi_plein")
    return h


@pytest.fixture
def history(services: CaseServices, clock: Clock) -> History:
    return build(services, clock)


@pytest.fixture
def people(history: History) -> Any:
    with running(history.s) as base:
        crowd = People(history.s, base)
        try:
            yield crowd
        finally:
            crowd.close()


def data(h: History, route: str | None = None) -> reporting.SteeringData:
    return reporting.gather(h.s, start=datetime(2026, 3, 1, tzinfo=UTC),
                            end=datetime(2026, 4, 1, tzinfo=UTC), route=route)


def cells(table: dict[str, Any]) -> list[list[Any]]:
    return [row["cells"] for row in table["rows"]]


def sheet_cells(ws: Any, first: int) -> list[list[Any]]:
    """The rows from ``first`` on; an empty cell reads back as None, written as ""."""
    return [["" if c.value is None else c.value for c in row]
            for row in ws.iter_rows(min_row=first)]


def pdf_text(pdf: bytes) -> str:
    """The text of the PDF, read through its Unicode maps (the fonts are embedded subsets)."""
    return "\n".join(line.text for line in pdf_lines(pdf))


def xlsx_text(book: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        return "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))


# -- the tables -------------------------------------------------------------------------


def test_the_review_table_gives_the_published_counts_back_as_they_are(history: History) -> None:
    d = data(history)
    review = reporting.steering_tables(d.indicators, d.titles, "fr")[0]
    assert review.key == "review"
    rows = {r.cells[0]: r.cells[1] for r in review.rows}
    f = d.indicators
    assert rows["Dossiers annoncés"] == f["referred"] == 10
    assert rows["En cours de suivi (à la fin de la période)"] == f["open"] == "<5"
    assert rows["Situations clôturées"] == f["closed"] == 5
    # the exact total rounded once (as every figure), not a sum of rounded parts
    assert rows["Issues à la clôture (solutions trouvées et autres issues)"] == (
        f["closed_with_outcome"]) == "<5"
    assert rows["Ne correspondant pas aux critères (non retenus)"] == f["outside_criteria"]
    parts = [r.cells for r in review.rows if r.level == 1]
    assert parts == [("Abandon", "<5"), ("Emploi sur le premier marché (plein temps)", "<5"),
                     ("Hors critères", "<5"), ("Orienté vers une seule institution", "<5")]


def test_every_table_has_a_stable_key_and_the_words_of_the_chosen_language(
        history: History) -> None:
    d = data(history)
    fr, en = d.tables("fr"), d.tables("en")
    keys = [t.key for t in fr]
    assert keys == ["review", "referrals_by_institution", "referrals_by_kind", "triage",
                    "open_by_state", "closed_by_outcome", "durations", "deadline_breaches",
                    "transfers", "handoffs", "occupancy", "occupancy_by_type",
                    "occupancy_by_payer"]
    assert [t.key for t in en] == keys
    closures = {t.key: t for t in en}["closed_by_outcome"]
    assert ("Job on the open market (full time)", "<5") in [r.cells for r in closures.rows]
    occupancy = {t.key: t for t in fr}["occupancy"]
    assert ("atelier-recyclage", "Atelier de recyclage", "Occupation", "01.01.2026 – 30.06.2026",
            2, "<5", 0) in [r.cells for r in occupancy.rows]
    transfers = {t.key: t for t in fr}["transfers"]
    assert ("Migration (MIG)", "Formation professionnelle (FP)", "<5") in \
        [r.cells for r in transfers.rows]


def test_a_state_or_outcome_without_a_title_is_shown_by_its_key() -> None:
    f = {"open_by_state": {"etat_inconnu": 5}, "open": 5}
    table = reporting.tables.open_by_state(f, Titles(), "en")
    assert table.rows[0].cells == ("etat_inconnu", 5)


def test_a_sum_of_published_counts_never_pretends_to_know_a_small_one() -> None:
    assert reporting.published_sum([10, 5]) == 15
    assert reporting.published_sum([10, "<5"]) == "10 + <5"
    assert reporting.published_sum(["<5", "<5"]) == "2 × <5"
    assert reporting.published_sum([]) == 0


def test_the_period_is_read_from_the_answer_last_day_included() -> None:
    p = reporting.Period.of({"from": "2026-03-01T00:00:00+00:00",
                             "to": "2026-04-01T00:00:00+00:00", "route": None})
    assert (p.label("fr"), p.slug) == ("01.03.2026 – 31.03.2026", "2026-03-01-2026-03-31")


# -- CSV and XLSX over HTTP -------------------------------------------------------------


def test_the_csv_of_a_table_parses_back_with_semicolons_and_a_bom(people: People) -> None:
    steering_group = people["CII-NE:steering"]
    table = steering_group.get("/api/steering/tables", params=MARCH).json()[0]
    answer = steering_group.get("/api/steering/tables/review.csv", params=MARCH)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == \
        'attachment; filename="relais-pilotage-review-toutes-routes-2026-03-01-2026-03-31.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    # what the file is, above the table: its title, period and route, the small-count rule
    assert rows[0] == [table["title"]]
    assert rows[1] == ["Période : 01.03.2026 – 31.03.2026 · Route : Toutes les routes"]
    assert rows[2][0].startswith("Règle des petits nombres") and rows[3] == []
    assert rows[4] == [c["label"] for c in table["columns"]] == ["Indicateur", "Nombre"]
    assert rows[5:] == [[str(v) for v in r] for r in cells(table)]
    assert ["Abandon", "<5"] in rows


def test_the_xlsx_of_a_table_opens_back_with_the_same_cells(people: People) -> None:
    steering_group = people["CII-NE:steering"]
    params = {**MARCH, "lang": "en"}
    table = next(t for t in steering_group.get("/api/steering/tables", params=params).json()
                 if t["key"] == "referrals_by_kind")
    answer = steering_group.get("/api/steering/tables/referrals_by_kind.xlsx", params=params)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ('filename="relais-pilotage-referrals_by_kind-toutes-routes-2026-03-01-2026-03-31'
            '.xlsx"') in answer.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(answer.content)).active
    assert ws.title == "referrals_by_kind"
    assert ws["A2"].value.startswith("Period : 01.03.2026 – 31.03.2026 · Route : All routes")
    assert ws["A3"].value.startswith("Small-count rule:")
    head = 5  # title, period, rule, blank line
    assert [c.value for c in ws[head]] == [c["label"] for c in table["columns"]]
    assert ws[head][0].font.b
    got = sheet_cells(ws, head + 1)
    assert got == cells(table)
    total = got[-1][1]
    assert isinstance(total, int) and total == 10  # a number stays a number
    small = next(row for row in ws.iter_rows(min_row=head + 1) if row[1].value == "<5")
    assert small[1].data_type == "s"  # "<5" is text
    assert ws.column_dimensions["A"].width > len("Vocational training (FP)")


def test_the_workbook_of_all_tables_has_a_sheet_per_table(people: People) -> None:
    steering_group = people["CII-NE:steering"]
    tables = steering_group.get("/api/steering/tables", params=MARCH).json()
    answer = steering_group.get("/api/steering/tables.xlsx", params=MARCH)
    assert answer.status_code == 200
    assert 'filename="relais-pilotage-toutes-routes-2026-03-01-2026-03-31.xlsx"' in \
        answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == [t["key"] for t in tables]
    for t in tables:
        ws = book[t["key"]]
        head = 6 if t["note"] else 5
        assert [c.value for c in ws[head]] == [c["label"] for c in t["columns"]]
        assert sheet_cells(ws, head + 1) == cells(t), t["key"]


# -- the diagram and the report ---------------------------------------------------------


def test_the_report_html_has_every_table_the_diagram_and_nothing_from_outside(
        people: People) -> None:
    steering_group = people["CII-NE:steering"]
    tables = steering_group.get("/api/steering/tables", params=MARCH).json()
    answer = steering_group.get("/api/steering/report.html", params=MARCH)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    html = answer.text
    for t in tables:
        assert f'data-table="{t["key"]}"' in html and t["title"] in html.replace("&#39;", "'")
    assert html.count("<svg") == 1 and 'role="img"' in html
    assert "01.03.2026 – 31.03.2026" in html and "&lt;5" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html


def test_the_report_pdf_carries_the_period_the_tables_and_the_diagram(people: People) -> None:
    steering_group = people["CII-NE:steering"]
    answer = steering_group.get("/api/steering/report.pdf", params={**MARCH, "route": "cmfp"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert 'filename="relais-pilotage-rapport-cmfp-2026-03-01-2026-03-31.pdf"' in \
        answer.headers["content-disposition"]
    assert answer.content.startswith(b"%PDF")
    text = pdf_text(answer.content)
    assert "01.03.2026 – 31.03.2026" in text
    assert "Case management formation professionnelle" in text
    assert "forme du bilan de législature" in text and "<5" in text
    assert "MIG" in text and "FP" in text  # the diagram's labels


def test_the_report_is_printed_in_german_and_italian_too(people: People) -> None:
    steering_group = people["CII-NE:steering"]
    for lang, said in (("de", ["Bericht an die IIZ-Steuerungsgruppe", "Legislaturbericht",
                               "Regel der kleinen Zahlen"]),
                       ("it", ["Rapporto al gruppo di pilotaggio CII", "Regola dei piccoli",
                               "bilancio di legislatura"])):
        answer = steering_group.get("/api/steering/report.pdf", params={**MARCH, "lang": lang})
        assert answer.status_code == 200, answer.text
        text = " ".join(pdf_text(answer.content).split())
        assert all(s in text for s in said), (lang, [s for s in said if s not in text])
        assert "01.03.2026 – 31.03.2026" in text


def test_the_flows_svg_over_http_is_the_diagram_of_the_flows(people: People,
                                                             history: History) -> None:
    answer = people["CII-NE:steering"].get("/api/steering/flows.svg", params=MARCH)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    flows = steering.flows(history.s, start=datetime(2026, 3, 1, tzinfo=UTC),
                           end=datetime(2026, 4, 1, tzinfo=UTC))
    assert answer.text == reporting.sankey_svg(flows, "fr")


def test_no_output_shows_a_name_an_avs_number_or_a_case(people: People,
                                                         history: History) -> None:
    steering_group = people["CII-NE:steering"]
    outputs = []
    for lang in ("fr", "en"):
        params = {**MARCH, "lang": lang}
        tables = steering_group.get("/api/steering/tables", params=params)
        outputs.append(tables.text)
        for t in tables.json():
            outputs.append(steering_group.get(f"/api/steering/tables/{t['key']}.csv",
                                              params=params).content.decode("utf-8-sig"))
        outputs.append(xlsx_text(steering_group.get("/api/steering/tables.xlsx",
                                                    params=params).content))
        outputs.append(steering_group.get("/api/steering/flows.svg", params=params).text)
        outputs.append(steering_group.get("/api/steering/report.html", params=params).text)
        outputs.append(pdf_text(steering_group.get("/api/steering/report.pdf",
                                                   params=params).content))
    everything = "\n".join(outputs)
    numbers = [person(n)["avs"] for n in range(1, 10)]
    forbidden = [*NAMES, "Melisande", *numbers, *(n.replace(".", "") for n in numbers),
                 REASON, "dépression", "1986", *history.ids]
    for word in forbidden:
        assert word not in everything, word
    assert "<5" in everything


def test_a_case_manager_gets_403_from_every_export(people: People) -> None:
    manager = people["ORP-NE:case_manager"]
    for path in ("tables", "tables/review.csv", "tables/review.xlsx", "tables.xlsx",
                 "flows.svg", "report.html", "report.pdf"):
        answer = manager.get(f"/api/steering/{path}", params=MARCH)
        assert answer.status_code == 403, path
        assert answer.json()["error"] == "forbidden"
    assert people.anonymous().get("/api/steering/report.pdf").status_code == 401


def test_unknown_tables_and_routes_are_404_and_bad_parameters_422(people: People) -> None:
    steering_group = people["CII-NE:steering"]

    def error(answer: httpx.Response) -> tuple[int, str]:
        return answer.status_code, answer.json()["error"]

    assert error(steering_group.get("/api/steering/tables/nope.csv")) == (404, "not_found")
    assert error(steering_group.get("/api/steering/tables/nope.xlsx")) == (404, "not_found")
    assert error(steering_group.get("/api/steering/report.pdf",
                                    params={"route": "nope"})) == (404, "not_found")
    for params in ({"lang": "es"}, {"from": "2026-04-01", "to": "2026-03-01"},
                   {"from": "mars"}, {"to": "0001-01-01"}):
        for path in ("tables", "tables/review.csv", "tables.xlsx", "flows.svg",
                     "report.html", "report.pdf"):
            assert error(steering_group.get(f"/api/steering/{path}", params=params)) == \
                (422, "invalid_input"), (path, params)
    assert error(steering_group.get("/api/steering/tables/Bad-Key.csv"))[0] == 422


# -- the Sankey, on its own -------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
FLOWS: list[dict[str, Any]] = [
    {"from": "AC", "to": "AI", "count": 45}, {"from": "AI", "to": "AC", "count": "<5"},
    {"from": "SA", "to": "AI", "count": 20}, {"from": "SA", "to": "AC", "count": 5},
    {"from": "MIG", "to": "FP", "count": "<5"}, {"from": "FP", "to": "AI", "count": 10}]


def band_widths(svg: str) -> list[float]:
    """Each band's width where it leaves its source: the two y of its first vertical edge."""
    root = ElementTree.fromstring(svg)
    out = []
    for path in root.iter(f"{SVG}path"):
        numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        out.append(round(numbers[-1] - numbers[1], 1))  # ... x0 y0+w Z  minus  M x0 y0
    return out


def test_the_sankey_has_one_path_per_flow_widths_ordered_as_the_counts() -> None:
    svg = reporting.sankey_svg(FLOWS, "fr")
    root = ElementTree.fromstring(svg)
    paths = list(root.iter(f"{SVG}path"))
    assert len(paths) == len(FLOWS)
    widths = dict(zip([f"{f['from']}>{f['to']}" for f in FLOWS], band_widths(svg), strict=True))
    assert widths["AC>AI"] > widths["SA>AI"] > widths["FP>AI"] > widths["SA>AC"] > \
        widths["AI>AC"] == widths["MIG>FP"] == sankey.SMALL_W
    assert [p.find(f"{SVG}title").text for p in paths] == [  # type: ignore[union-attr]
        f"{f['from']} vers {f['to']} : {f['count']}" for f in FLOWS]
    assert root.get("role") == "img" and "AC vers AI : 45" in (root.get("aria-label") or "")
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "AI · 75" in labels and "AC · 5 + <5" in labels and labels.count("<5") == 2


def test_the_sankey_count_labels_never_stand_on_one_another() -> None:
    many_small = [{"from": a, "to": b, "count": "<5"} for a in ("AC", "AI", "SA")
                  for b in ("AC", "AI", "SA", "FP", "MIG") if a != b]
    root = ElementTree.fromstring(reporting.sankey_svg(many_small, "en"))
    counts = sorted(float(t.get("y", 0)) for t in root.iter(f"{SVG}text") if t.text == "<5")
    assert len(counts) == len(many_small)
    assert all(b - a >= sankey.LINE for a, b in itertools.pairwise(counts))


def test_the_sankey_is_the_same_for_the_same_flows_and_says_when_there_are_none() -> None:
    assert reporting.sankey_svg(FLOWS, "en") == reporting.sankey_svg(list(FLOWS), "en")
    empty = ElementTree.fromstring(reporting.sankey_svg([], "en"))
    assert list(empty.iter(f"{SVG}path")) == []
    assert "No change of lead in the period." in (empty.get("aria-label") or "")


def test_the_sankey_text_meets_wcag_aa_over_any_two_overlapping_bands() -> None:
    for a in sankey.COLOURS.values():
        one = blend("#ffffff", a, sankey.BAND_OPACITY)
        assert contrast(sankey.TEXT, one) >= 4.5
        for b in sankey.COLOURS.values():
            two = blend(one, b, sankey.BAND_OPACITY)
            assert contrast(sankey.TEXT, two) >= 4.5, (a, b)


published = st.one_of(st.just("<5"), st.integers(1, 400).map(lambda n: 5 * n))


@given(st.lists(published, min_size=1, max_size=12))
def test_a_band_is_never_thinner_than_a_smaller_count_and_a_small_one_reveals_nothing(
        counts: list[Any]) -> None:
    widths = sankey.widths(counts)
    key = [0 if c == "<5" else c for c in counts]
    for (ka, wa) in zip(key, widths, strict=True):
        for (kb, wb) in zip(key, widths, strict=True):
            if ka < kb:
                assert wa <= wb
    assert all(w == sankey.SMALL_W for c, w in zip(counts, widths, strict=True) if c == "<5")
    assert all(w > sankey.SMALL_W for c, w in zip(counts, widths, strict=True) if c != "<5")


def test_no_header_of_the_report_pdf_breaks_inside_a_word() -> None:
    """A column is at least as wide as the longest word of its header: the occupancy table
    of the demonstration printed "Plac|es", "Occ|upé|es", "En attent|e"."""
    from fpdf import FPDF

    from relais.api.reporting.model import Column, Row, Table
    from relais.api.reporting.pdf import HEAD_PADDING_MM, WIDTH_MM, column_widths
    from relais.cases.printing import FAMILY, with_fonts
    table = Table("occupancy", "Occupation des places", (
        Column("code", "Code"), Column("programme", "Programme"), Column("type", "Type"),
        Column("period", "Période"), Column("places", "Places", "count"),
        Column("held", "Occupées", "count"), Column("waiting", "En attente", "count")),
        (Row(("OCC-LCF-01", "Atelier de réinsertion socioprofessionnelle des Montagnes",
              "socio_professionnel", "01.01.2026 – 30.11.2026", 12, 8, "<5")),))
    doc = with_fonts(FPDF())
    widths = column_widths(doc, table)
    assert abs(sum(widths) - WIDTH_MM) < 0.01
    doc.set_font(FAMILY, "B", 9)
    for c, width in zip(table.columns, widths, strict=True):
        longest = max(doc.get_string_width(w) for w in c.label.split())
        assert width >= longest + HEAD_PADDING_MM, (c.label, width, longest)
