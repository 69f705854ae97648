"""Letters and messages from the Jinja2 templates in ``templates/``: French first, then
English; Swiss dates; the legal line on data exchange. HTML for screens, PDF for print.

PDF uses fpdf2's built-in fonts, which cover Latin-1: the few French characters outside it
(œ, typographic quotes and dashes) are written with their nearest Latin-1 equivalent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from institutions.dates import deadline_end, local_day, swiss_date

__all__ = ["LEGAL", "deadline_end", "environment", "pdf", "render", "salutation", "swiss_date"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"',
                         "—": "-", "–": "-", "…": "...", "€": "EUR", "\u202f": " "})

LEGAL = {
    "LACI art. 85f": {"fr": "Échange de données entre partenaires CII selon l'art. 85f LACI ; "
                            "vous en êtes informé·e par ce courrier.",
                      "en": "Data exchanged between CII partners under art. 85f LACI; this "
                            "letter informs you of it."},
    "LAI art. 68bis": {"fr": "Échange de données entre partenaires CII selon l'art. 68bis LAI ; "
                             "vous en êtes informé·e par ce courrier.",
                       "en": "Data exchanged between CII partners under art. 68bis LAI; this "
                             "letter informs you of it."},
    "consent": {"fr": "Échange de données fondé sur votre consentement, révocable en tout temps.",
                "en": "Data exchanged on the basis of your consent, which you may revoke at "
                      "any time."},
}


def salutation(sex: str | None) -> dict[str, str]:
    """eCH-0044 sex code: 1 male, 2 female; otherwise both forms."""
    return {"1": {"fr": "Monsieur", "en": "Dear Sir"},
            "2": {"fr": "Madame", "en": "Dear Madam"}}.get(
        sex or "", {"fr": "Madame, Monsieur", "en": "Dear Madam or Sir"})


def environment(folder: Path = TEMPLATES) -> Environment:
    env = Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["swiss_date"] = swiss_date
    env.filters["deadline_end"] = deadline_end
    env.filters["swiss_weekday_fr"] = lambda d: WEEKDAYS_FR[local_day(d).weekday()]
    return env


def render(name: str, context: dict[str, Any], env: Environment | None = None) -> str:
    """``letters/convocation.html`` or ``messages/remind_owner.txt`` (``.j2`` implied)."""
    return (env or environment()).get_template(f"{name}.j2").render(**context)


def pdf(html: str, title: str) -> bytes:
    """A printable PDF of a rendered letter."""
    doc = FPDF(format="A4")
    doc.set_title(title.translate(_LATIN1))
    doc.set_auto_page_break(auto=True, margin=20)
    doc.add_page()
    doc.set_font("helvetica", size=11)
    body = html.split("<body>", 1)[-1].split("</body>", 1)[0]
    doc.write_html(body.translate(_LATIN1))
    return bytes(doc.output())
