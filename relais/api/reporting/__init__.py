"""Presentation of the steering figures: tables, CSV and XLSX, the flow diagram, the report.

Adapters around ``cases.steering`` (which never imports this package). Everything but
``sources`` is pure: it takes the published answers and gives text or bytes, so the
steering pages and the HTTP endpoints (``api/aggregates.py``) draw the same things.

Tables (``model.Table``: ``key``, ``title``, typed ``columns``, ``rows`` of cells, ``note``;
``as_json()``)::

    titles = route_titles(services)                 # states, outcomes, routes, institutions
    tables = steering_tables(indicators, titles, "fr")  # review, referrals_by_institution,
    #   referrals_by_kind, triage, open_by_state, closed_by_outcome, durations,
    #   deadline_breaches, transfers, handoffs
    tables += occupancy_tables(steering_occupancy_answer, "fr")  # occupancy, _by_type, _by_payer

Exports and drawings::

    table_csv(table, period, route_title, lang)     # UTF-8 with BOM, ";" (Swiss Excel)
    table_xlsx(table, period, route_title) -> bytes
    tables_xlsx(tables, period, route_title) -> bytes   # a sheet per table
    sankey_svg(flows, "fr") -> str                  # cases.steering.flows' list
    report = build_report(indicators, flows, titles, generated_at=now, lang="fr",
                          occupancy=answer)
    report_html(report) -> str;  report_pdf(report) -> bytes

``Period.of(indicators)`` reads the period an answer covers (last day included).
``gather(services, start=, end=, route=)`` reads all of it from the database at once.
Counts are never recomputed: "<5" stays "<5" in every format. docs/reporting.md says what
each table counts.
"""

from .export import table_csv, table_xlsx, tables_xlsx
from .labels import Titles, titles_from
from .model import Cell, Column, Row, Table, published_sum
from .occupancy import occupancy_tables
from .pdf import report_pdf
from .period import Period
from .report import Report, build_report, report_html
from .sankey import sankey_svg
from .sources import SteeringData, gather, route_titles
from .tables import steering_tables

__all__ = ["Cell", "Column", "Period", "Report", "Row", "SteeringData", "Table", "Titles",
           "build_report", "gather", "occupancy_tables", "published_sum", "report_html",
           "report_pdf", "route_titles", "sankey_svg", "steering_tables", "table_csv",
           "table_xlsx", "tables_xlsx", "titles_from"]
