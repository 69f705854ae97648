"""The fonts of every PDF Relais prints (letters, the steering report): shipped under
templates/fonts and embedded in each document, so that a name prints as it is written
(Đorđević-Šimić, Yıldız, Nguyễn, 李) and no printer's fonts are assumed."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from fpdf import FPDF

FONTS = Path(__file__).resolve().parents[1] / "templates" / "fonts"
FAMILY = "relais"
HAN = "relais-han"  # Chinese, Japanese, Korean: read only when a text needs them (4 MB)
D = TypeVar("D", bound=FPDF)
_STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}


def needs_han(text: str) -> bool:
    """CJK ideographs, kana and hangul (and their punctuation), which DejaVu lacks."""
    return any(0x2E80 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7AF
               or 0xF900 <= ord(c) <= 0xFAFF or 0xFF00 <= ord(c) <= 0xFFEF
               or 0x20000 <= ord(c) <= 0x2FA1F for c in text)


def with_fonts(doc: D, text: str = "") -> D:
    """``doc`` with Relais's family (``FAMILY``: regular, ``B``, ``I``; bold italic drawn
    as bold), and the CJK fallback when ``text`` (all the document will print) needs it."""
    for style, name in _STYLES.items():
        doc.add_font(FAMILY, style, FONTS / name)
    doc.add_font(FAMILY, "BI", FONTS / _STYLES["B"])
    if needs_han(text):
        doc.add_font(HAN, "", FONTS / "DroidSansFallbackFull.ttf")
        doc.set_fallback_fonts([HAN], exact_match=False)
    return doc
