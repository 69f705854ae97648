"""The text of a PDF that ``cases.letters.pdf`` printed, line by line, with where each line
stands on the page: enough to read a letter as the post would (what is in the envelope's
window) without a PDF library. fpdf2 writes each line as ``BT x y Td ... (text) Tj ET`` in
a Flate-compressed content stream, the origin at the bottom left, in points."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MM = 72 / 25.4  # points per millimetre
A4_HEIGHT_MM = 297.0
# the end of line before ``endstream`` is left to zlib (unused data after the stream's end):
# compressed data may well end in a byte that reads as ``\r``
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_TEXT = re.compile(rb"BT\s+([\d.]+)\s+([\d.]+)\s+Td(.*?)ET", re.S)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPE = re.compile(rb"\\(.)", re.S)


@dataclass(frozen=True)
class Line:
    page: int
    x_mm: float  # from the left edge
    top_mm: float  # from the top edge, to the line's baseline
    text: str


def pdf_lines(document: bytes) -> list[Line]:
    lines: list[Line] = []
    pages = [c for m in _STREAM.finditer(document) if (c := _inflated(m.group(1)))]
    for page, content in enumerate(pages, start=1):
        for m in _TEXT.finditer(content):
            text = b"".join(_ESCAPE.sub(rb"\1", s.group(1)) for s in _SHOWN.finditer(m.group(3)))
            if text.strip():
                lines.append(Line(page, float(m.group(1)) / MM,
                                  A4_HEIGHT_MM - float(m.group(2)) / MM,
                                  text.decode("latin-1").strip()))
    return lines


def pdf_text(document: bytes) -> str:
    """All the text, one line after the other, spaces as a reader sees them."""
    return " ".join(" ".join(line.text for line in pdf_lines(document)).split())


def _inflated(raw: bytes) -> bytes | None:
    """A page's content stream, inflated; None for any other stream (fonts, images)."""
    try:
        content = zlib.decompressobj().decompress(raw)
    except zlib.error:
        return None
    return content if b"Td" in content else None
