"""The steering group's files as HTTP answers: the same bytes, types and file names whether
a program asks the API (``api/aggregates.py``) or a person downloads them from the dashboard
(``api/pages/steering.py``). Built from one period's figures (``reporting.SteeringData``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Response

from . import reporting

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the report and the diagram load nothing: a browser is told to refuse anything they would
SELF_CONTAINED = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                             "frame-ancestors 'none'; base-uri 'none'; "
                                             "form-action 'none'"}


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def find_table(data: reporting.SteeringData, key: str, lang: str) -> reporting.Table | None:
    return next((t for t in data.tables(lang) if t.key == key), None)


def scope(data: reporting.SteeringData) -> str:
    """What a file covers, for its name: the route (or all of them) and the period, so
    that files of two routes or two periods never take each other's name."""
    return f"{data.indicators.get('route') or 'toutes-routes'}-{data.period.slug}"


def table_csv(data: reporting.SteeringData, table: reporting.Table, lang: str) -> Response:
    body = reporting.table_csv(table, data.period, data.route_title(lang), lang)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers=attachment(f"relais-pilotage-{table.key}-{scope(data)}.csv"))


def table_xlsx(data: reporting.SteeringData, table: reporting.Table, lang: str) -> Response:
    body = reporting.table_xlsx(table, data.period, data.route_title(lang))
    return Response(body, media_type=XLSX,
                    headers=attachment(f"relais-pilotage-{table.key}-{scope(data)}.xlsx"))


def tables_xlsx(data: reporting.SteeringData, lang: str) -> Response:
    body = reporting.tables_xlsx(data.tables(lang), data.period, data.route_title(lang))
    return Response(body, media_type=XLSX,
                    headers=attachment(f"relais-pilotage-{scope(data)}.xlsx"))


def report_html(data: reporting.SteeringData, lang: str, now: datetime) -> Response:
    return Response(reporting.report_html(data.report(lang, now)),
                    media_type="text/html; charset=utf-8", headers=SELF_CONTAINED)


def report_pdf(data: reporting.SteeringData, lang: str, now: datetime) -> Response:
    return Response(reporting.report_pdf(data.report(lang, now)), media_type="application/pdf",
                    headers=attachment(f"relais-pilotage-rapport-{scope(data)}.pdf"))
