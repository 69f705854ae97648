"""The report for the steering group's meeting: every table and the flow diagram of a
period, as a self-contained printable HTML page (inline CSS and SVG, nothing loaded from
elsewhere). ``pdf.report_pdf`` prints the same ``Report``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from relais.cases.letters import environment
from relais.i18n import said
from relais.institutions.dates import ZURICH

from .labels import SMALL_RULE, Lang, Titles, check_lang, pick
from .model import Cell, ColumnKind, Table
from .occupancy import occupancy_tables
from .period import Period
from .sankey import sankey_svg
from .tables import steering_tables

TEMPLATE = "reports/steering.html.j2"


@dataclass(frozen=True)
class Report:
    period: Period
    route_title: str
    tables: Sequence[Table]
    flows_svg: str
    generated_at: datetime
    lang: Lang = "fr"

    def words(self) -> dict[str, str]:
        return {key: said(self.lang, fr, en) for key, (fr, en) in WORDS.items()}

    @property
    def generated(self) -> str:
        """dd.mm.yyyy HH:MM in Neuchâtel's time."""
        return self.generated_at.astimezone(ZURICH).strftime("%d.%m.%Y %H:%M")

    @property
    def title(self) -> str:
        return f"{self.words()['title']} · {self.period.label(self.lang)}"


# the report's own words, French and English as written (German and Italian: the catalogues)
WORDS = {
    "title": ("Rapport au groupe de pilotage CII", "Report to the CII steering group"),
    "period": ("Période", "Period"), "route": ("Route", "Route"),
    "generated": ("Généré le", "Generated on"),
    "flows": ("Flux entre institutions", "Flows between institutions"),
    "flows_note": ("Largeur des bandes proportionnelle au nombre de changements de "
                   "responsable ; une bande fine de largeur fixe signifie « <5 ».",
                   "Band widths are proportional to the changes of lead; a thin band of "
                   "fixed width means \"<5\"."),
    "contents": ("Contenu", "Contents"), "rule": ("Règle des petits nombres", "Small-count rule"),
    "empty": ("Aucune donnée dans la période.", "No data in the period."),
}


def display(value: Cell, kind: ColumnKind, lang: Lang) -> str:
    """A cell as people read it: days as published (2.0, 3.25; a comma in French), thousands
    grouped the Swiss way (1'250), "<5" and text as they are."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float) or kind == "days":
        text = f"{float(value):.2f}".rstrip("0")  # as published: two decimals at most
        text += "0" if text.endswith(".") else ""
        return text.replace(".", ",") if lang == "fr" else text
    return f"{value:,}".replace(",", "'")


def build_report(indicators: dict[str, Any], flows: Sequence[dict[str, Any]], titles: Titles,
                 *, generated_at: datetime, lang: Lang = "fr",
                 occupancy: dict[str, Any] | None = None) -> Report:
    """Everything the report shows, from one indicators answer, its flows and (optionally)
    the occupancy answer of the same period."""
    check_lang(lang)
    period = Period.of(indicators)
    tables = steering_tables(indicators, titles, lang)
    if occupancy is not None:
        tables += occupancy_tables(occupancy, lang)
    return Report(period, titles.route(period.route, lang), tables, sankey_svg(flows, lang),
                  generated_at, lang)


def report_html(report: Report) -> str:
    """The printable page (A4, a page per section when printed)."""
    return environment().get_template(TEMPLATE).render(
        r=report, w=report.words(), rule=pick(SMALL_RULE, report.lang),
        # built by sankey.py, which escapes every text it writes into it
        svg=Markup(report.flows_svg),  # noqa: S704
        display=display)
