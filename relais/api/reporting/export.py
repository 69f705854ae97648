"""A steering table as CSV, one or all of them as an XLSX workbook (openpyxl).

Counts stay as published: a number is written as a number, "<5" as the text "<5" (a
spreadsheet never turns it into a value). Text that a spreadsheet would read as a formula
(a route title beginning with "=") is written as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

# openpyxl ships no type hints (types-openpyxl would be a new dev dependency)
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from relais.i18n import said

from .labels import small_rule
from .model import Cell, Table
from .period import Period

# Excel opens a CSV file in the system's ANSI code page unless it starts with a byte-order
# mark: with the BOM, "Procédure" stays "Procédure". And in Swiss and French regional
# settings Excel's list separator is ";" (the comma is a decimal sign in French), so a
# double-clicked file falls into columns only when written with ";". Swiss settings keep "."
# as the decimal sign, which is how the days are written.
CSV_ENCODING = "utf-8-sig"
CSV_SEPARATOR = ";"
FORMULA_START = ("=", "+", "-", "@")
MAX_WIDTH = 60
FORMATS = {"days": "0.00", "chf": "#,##0", "count": "0"}


def _csv_cell(value: Cell) -> str:
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-":
        return "'" + value  # read as text, not as a formula (CSV injection)
    return str(value)


def table_csv(table: Table, period: Period, route_title: str, lang: str) -> bytes:
    """One table as CSV: what it is (its title, the period and route, the small-count
    rule) and an empty line, then a line of column headers and its rows; UTF-8 with BOM,
    ";". (For BI tools, /api/steering/figures.csv: one header, stable keys.)"""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow([_csv_cell(table.title)])
    for line in header_lines(period, route_title, lang):
        writer.writerow([_csv_cell(line)])
    writer.writerow([])
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row.cells])
    return out.getvalue().encode(CSV_ENCODING)


def header_lines(period: Period, route_title: str, lang: str) -> list[str]:
    """What every sheet says above its table: the period, the route, the small-count rule."""
    period_word = said(lang, "Période", "Period")
    return [f"{period_word} : {period.label(lang)} · Route : {route_title}",
            small_rule(lang)]


def _sheet(ws: Worksheet, table: Table, lines: list[str]) -> None:
    ws.title = table.key[:31]
    ws.append([table.title])
    ws["A1"].font = Font(bold=True, size=13)
    for line in lines + ([table.note] if table.note else []):
        ws.append([line])
    ws.append([])
    ws.append([c.label for c in table.columns])
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append(list(row.cells))
        for column, cell in zip(table.columns, ws[ws.max_row], strict=True):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, "<5" stays text
                cell.alignment = Alignment(horizontal="right" if column.kind != "text"
                                           else "left", indent=row.level)
            elif column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
    ws.freeze_panes = f"A{head + 1}"
    ws.print_title_rows = f"{head}:{head}"  # printed: the headers on every page
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToHeight = 0  # as many pages as needed, one page wide
    _widths(ws, table)


def _widths(ws: Worksheet, table: Table) -> None:
    for i, column in enumerate(table.columns, start=1):
        cells = [column.label, *(str(r.cells[i - 1]) for r in table.rows)]
        width = max(len(c) for c in cells) + 2 + (2 if i == 1 else 0)
        ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(8, width))


def tables_xlsx(tables: Sequence[Table], period: Period, route_title: str = "") -> bytes:
    """A workbook with one sheet per table (in order), each headed by the period, the route
    and the small-count rule."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for table in tables:
        _sheet(book.create_sheet(), table, header_lines(period, route_title, table.lang))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_xlsx(table: Table, period: Period, route_title: str = "") -> bytes:
    """A workbook of one table."""
    return tables_xlsx([table], period, route_title)


def header_row(table: Table) -> int:
    """The sheet row of the column headers: after the title, the two header lines, the
    note if any, and a blank line."""
    return 1 + 2 + (1 if table.note else 0) + 1 + 1
