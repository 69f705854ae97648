"""The report as a PDF (fpdf2), the same content as the HTML page: tables drawn with fpdf2's
table API, the flow diagram embedded as SVG (fpdf2 draws its rects, paths, opacity and text).

Like the letters, the PDF prints in Relais's Unicode fonts (cases.printing: shipped with
Relais and embedded), so that every name and title prints as written.
"""

from __future__ import annotations

import io

from fpdf import FPDF, FontFace

from relais.cases.printing import FAMILY, with_fonts

from .labels import SMALL_RULE, pick
from .model import Table
from .report import Report, display

WIDTH_MM = 180  # A4 less the margins
LINE_MM = 6.5
HEAD = FontFace(emphasis="BOLD", fill_color=(232, 238, 244))
SANKEY_PX = 640  # the SVG's width (sankey.WIDTH)
HEAD_PADDING_MM = 2.5  # a cell's padding on both sides (1 mm each), and a hair to spare
MAX_COLUMN_MM = 70


class _Doc(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, size=8)
        self.set_text_color(60, 60, 60)
        self.cell(0, 5, f"{self.footer_text} - {self.page_no()}/{{nb}}", align="C")


def _heading(doc: FPDF, text: str) -> None:
    doc.set_font(FAMILY, "B", 12)
    doc.set_text_color(26, 26, 26)
    doc.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    doc.ln(1)


def _fits(doc: FPDF, height_mm: float) -> None:
    """A new page when what follows would not fit on this one (a small table stays whole)."""
    if doc.get_y() + height_mm > doc.h - doc.b_margin:
        doc.add_page()


def column_widths(doc: FPDF, table: Table, lang: str = "fr") -> list[float]:
    """Each column's width in mm, the table filling ``WIDTH_MM``: never narrower than the
    longest word of its header (a header breaks between words, never inside one), as wide
    as what it holds where the page allows (up to ``MAX_COLUMN_MM``), the rest shared out."""
    doc.set_font(FAMILY, "B", 9)
    need = [max(doc.get_string_width(w) for w in c.label.split()) + HEAD_PADDING_MM
            for c in table.columns]
    heads = [doc.get_string_width(c.label) for c in table.columns]
    doc.set_font(FAMILY, size=9)
    want = [max(need[i], min(MAX_COLUMN_MM, HEAD_PADDING_MM + max(
        heads[i], *(doc.get_string_width(display(r.cells[i], c.kind, lang))
                    for r in table.rows))))
        for i, c in enumerate(table.columns)]
    total = sum(want)
    if total <= WIDTH_MM:  # room to spare: shared in proportion
        return [w * WIDTH_MM / total for w in want]
    slack = sum(w - n for w, n in zip(want, need, strict=True))
    if sum(need) >= WIDTH_MM or slack <= 0:  # cannot fit whole words: proportions, as best
        return [n * WIDTH_MM / sum(need) for n in need]
    cut = (total - WIDTH_MM) / slack  # the share of each column's slack given up
    return [w - (w - n) * cut for w, n in zip(want, need, strict=True)]


def _table(doc: FPDF, table: Table, report: Report) -> None:
    lang = report.lang
    _fits(doc, min(90.0, 14 + LINE_MM * (len(table.rows) + 1)))
    _heading(doc, table.title)
    doc.set_font(FAMILY, size=9)
    if not table.rows:
        doc.multi_cell(0, 5, report.words()["empty"], new_x="LMARGIN", new_y="NEXT")
    else:
        widths = column_widths(doc, table, lang)
        doc.set_font(FAMILY, size=9)
        align = tuple("LEFT" if c.kind == "text" else "RIGHT" for c in table.columns)
        with doc.table(col_widths=widths, text_align=align, headings_style=HEAD,
                       line_height=5, width=WIDTH_MM, first_row_as_headings=True,
                       padding=(0, 1)) as grid:
            head = grid.row()
            for c in table.columns:
                head.cell(c.label)
            for row in table.rows:
                cells = grid.row()
                for i, (c, value) in enumerate(zip(table.columns, row.cells, strict=True)):
                    text = display(value, c.kind, lang)
                    cells.cell(("    " if row.level and i == 0 else "") + text)
    if table.note:
        doc.set_font(FAMILY, "I", 8)
        doc.multi_cell(0, 4.5, table.note, new_x="LMARGIN", new_y="NEXT")
    doc.ln(5)


def _sankey(doc: FPDF, report: Report) -> None:
    w = report.words()
    height = float(report.flows_svg.split('height="', 1)[1].split('"', 1)[0])
    _fits(doc, 12 + height * WIDTH_MM / SANKEY_PX + 10)
    _heading(doc, w["flows"])
    doc.image(io.BytesIO(report.flows_svg.encode()), w=WIDTH_MM)
    doc.set_font(FAMILY, "I", 8)
    doc.multi_cell(0, 4.5, w["flows_note"], new_x="LMARGIN", new_y="NEXT")
    doc.ln(5)


def _front(doc: FPDF, report: Report) -> None:
    w = report.words()
    doc.set_font(FAMILY, "B", 16)
    doc.multi_cell(0, 9, w["title"], new_x="LMARGIN", new_y="NEXT")
    doc.set_font(FAMILY, size=10)
    for label, value in ((w["period"], report.period.label(report.lang)),
                         (w["route"], report.route_title), (w["generated"], report.generated)):
        doc.multi_cell(0, 5.5, f"{label} : {value}", new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.set_font(FAMILY, size=9)
    doc.set_fill_color(242, 246, 250)
    doc.multi_cell(0, 4.8, f"{w['rule']}. {pick(SMALL_RULE, report.lang)}", fill=True,
                   new_x="LMARGIN", new_y="NEXT")
    doc.ln(6)


def report_pdf(report: Report) -> bytes:
    """The report as PDF bytes (A4); the same report gives the same bytes."""
    doc = with_fonts(_Doc(format="A4"))
    doc.footer_text = f"{report.words()['title']} - {report.period.label(report.lang)}"
    doc.set_title(report.title)
    doc.set_lang(report.lang)
    doc.set_creator("Relais")
    doc.set_creation_date(report.generated_at)
    doc.set_margins(15, 15, 15)
    doc.set_auto_page_break(auto=True, margin=18)
    doc.add_page()
    _front(doc, report)
    for table in report.tables:
        _table(doc, table, report)
        if table.key == "transfers":
            _sankey(doc, report)
    return bytes(doc.output())
