"""The text of a PDF that Relais printed, line by line, with where each line stands on the
page: enough to read a letter as the post would (what is in the envelope's window). The
fonts are embedded TrueType subsets, so the text is read through the PDF's own Unicode maps
(pypdf), as a reader's copy-paste would."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader

MM = 72 / 25.4  # points per millimetre
A4_HEIGHT_MM = 297.0


@dataclass(frozen=True)
class Line:
    page: int
    x_mm: float  # from the left edge
    top_mm: float  # from the top edge, to the line's baseline
    text: str


def pdf_lines(document: bytes) -> list[Line]:
    """Each line: the text shown at one height of a page, its runs (a name may change font
    mid-line, to the CJK fallback) joined left to right."""
    lines: list[Line] = []
    for page_no, page in enumerate(PdfReader(io.BytesIO(document)).pages, start=1):
        runs: list[tuple[float, float, str]] = []

        def seen(text: str, cm: Any, tm: Any, *_: Any, runs: list = runs) -> None:  # type: ignore[type-arg]
            if text.strip("\n"):
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((round(y, 1), x, text.replace("\n", "")))

        page.extract_text(visitor_text=seen)
        heights: dict[float, list[tuple[float, str]]] = {}
        for y, x, text in runs:
            heights.setdefault(y, []).append((x, text))
        for y in sorted(heights, reverse=True):
            parts = sorted(heights[y])
            text = " ".join("".join(t for _, t in parts).split())  # spaces as read
            if text:
                lines.append(Line(page_no, parts[0][0] / MM, A4_HEIGHT_MM - y / MM, text))
    return lines


def pdf_text(document: bytes) -> str:
    """All the text, one line after the other, spaces as a reader sees them."""
    return " ".join(" ".join(line.text for line in pdf_lines(document)).split())
