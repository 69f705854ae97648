"""Letters and messages from the Jinja2 templates in ``templates/``: a letter in its
recipient's language (``lang`` in its context: the institution's from the registry, French
for a person), through the gettext catalogues; Swiss dates; the legal line on data
exchange. HTML for screens, PDF for print. (The e-mail messages are still written French
then English.)

PDF uses fpdf2's built-in fonts, which cover Latin-1: the few French characters outside it
(œ, typographic quotes and dashes) are written with their nearest Latin-1 equivalent.
"""

from __future__ import annotations

import html as markup
import re
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from relais.conventions.data_sharing import CONSENT, OWN
from relais.i18n import LANGS, day, text_in, translations, weekday_day
from relais.institutions.dates import deadline_end, swiss_date

from .printing import FAMILY, with_fonts

__all__ = ["FILES_TO_BRING", "LEGAL", "LEGAL_TO_INSTITUTION", "address_lines", "deadline_end",
           "environment", "legal_to_institution", "pdf", "render", "salutation", "swiss_date"]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

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

# Letters to an institution say on which basis they carry what they say of the person (the
# basis ``conventions.data_sharing.legal_basis`` names); the person is told by the lead,
# never by a letter written to someone else
LEGAL_TO_INSTITUTION = {
    OWN: {"fr": "Dossier de votre institution.", "en": "Your institution's own file."},
    "LACI art. 85f": {"fr": "Données communiquées entre partenaires CII selon l'art. 85f LACI, "
                            "sans consentement ; l'institution responsable en informe la "
                            "personne.",
                      "en": "Data disclosed between CII partners under art. 85f LACI, without "
                            "consent; the lead institution informs the person."},
    "LAI art. 68bis": {"fr": "Données communiquées entre partenaires CII selon l'art. 68bis "
                             "LAI, sans consentement ; l'institution responsable en informe la "
                             "personne.",
                       "en": "Data disclosed between CII partners under art. 68bis LAI, "
                             "without consent; the lead institution informs the person."},
    CONSENT: {"fr": "Données communiquées sur la base du consentement de la personne, "
                    "révocable en tout temps.",
              "en": "Data disclosed on the basis of the person's consent, which they may "
                    "revoke at any time."},
}
NO_BASIS = {"fr": "Aucune donnée de la personne ne vous est communiquée : ni base légale ni "
                  "consentement ne le permet.",
            "en": "Nothing about the person is disclosed to you: neither a statute nor a "
                  "consent allows it."}
REFERENCE_ONLY = {"fr": "Ce message ne contient que la référence du cas ; le dossier se "
                        "consulte dans Relais selon vos droits.",
                  "en": "This message carries only the case's reference; the file is read in "
                        "Relais as your rights allow."}

# what each kind of institution brings to a joint assessment: its own file on the person
FILES_TO_BRING = {
    "AC": {"fr": "le dossier ORP : droit aux indemnités et fin de droit, recherches d'emploi, "
                 "mesures du marché du travail suivies",
           "en": "the job centre's file: entitlement and its end, job search, labour-market "
                 "measures followed"},
    "AI": {"fr": "le dossier AI : détection ou intervention précoces, demande AI, appréciation "
                 "médicale (SMR)",
           "en": "the AI file: early detection or intervention, AI claim, medical assessment "
                 "(SMR)"},
    "SA": {"fr": "le dossier d'aide sociale : budget, prestations versées, suivi social",
           "en": "the social-assistance file: budget, benefits paid, social follow-up"},
    "FP": {"fr": "le dossier de formation : parcours scolaire et professionnel, mesures suivies",
           "en": "the training file: schooling and vocational path, measures followed"},
    "MIG": {"fr": "le dossier de migration : statut de séjour, mesures d'intégration",
            "en": "the migration file: residence status, integration measures"},
}
ANY_FILE = {"fr": "le dossier de votre institution sur la personne",
            "en": "your institution's file on the person"}


def legal_to_institution(shown: dict[str, str], asked: bool) -> dict[str, str]:
    """The legal line of a letter to an institution: the bases of what it carries (category
    -> basis), or why it carries nothing of the person (``asked``: it would have)."""
    if not shown:
        return NO_BASIS if asked else REFERENCE_ONLY
    bases = [LEGAL_TO_INSTITUTION[b] for b in dict.fromkeys(shown.values())
             if b in LEGAL_TO_INSTITUTION]
    return {lang: " ".join(text_in(b, lang) for b in bases) for lang in LANGS}


def address_lines(address: str) -> list[str]:
    """An institution's postal address as the registry writes it (``Rue du Seyon 10, 2000
    Neuchâtel``), one line per part."""
    return [part.strip() for part in address.split(",") if part.strip()]


def salutation(sex: str | None) -> dict[str, str]:
    """eCH-0044 sex code: 1 male, 2 female; otherwise both forms."""
    return {"1": {"fr": "Monsieur", "en": "Dear Sir"},
            "2": {"fr": "Madame", "en": "Dear Madam"}}.get(
        sex or "", {"fr": "Madame, Monsieur", "en": "Dear Madam or Sir"})


@lru_cache(maxsize=16)
def environment(folder: Path = TEMPLATES, lang: str = "fr") -> Environment:
    """The templates with ``_()`` in ``lang`` and its filters (``in_lang`` for a
    ``{"fr", "en", …}`` text, ``weekday_day``: « jeudi 12.02.2026 »)."""
    env = Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]),
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    env.filters["swiss_date"] = partial(day, lang=lang)
    env.filters["deadline_end"] = deadline_end
    env.filters["weekday_day"] = partial(weekday_day, lang=lang)
    env.filters["in_lang"] = partial(text_in, lang=lang)
    return env


def render(name: str, context: dict[str, Any], env: Environment | None = None) -> str:
    """``letters/convocation.html`` or ``messages/remind_owner.txt`` (``.j2`` implied), in
    the context's ``lang`` (French when it has none)."""
    lang = str(context.get("lang") or "fr")
    return (env or environment(lang=lang)).get_template(f"{name}.j2").render(
        **{**context, "lang": lang})


# A Swiss envelope with its window on the right (C5/6, C5): the recipient's block starts
# about 118 mm from the left edge of an A4 page and 50 mm from its top, the letter's text
# below the window. fpdf2's HTML knows no CSS classes: the blocks the letter's CSS places
# (``sender``, ``recipient``) are placed here.
WINDOW_LEFT_MM, WINDOW_TOP_MM, TEXT_TOP_MM = 118.0, 50.0, 100.0
_BLOCK = re.compile(r'<p class="(sender|recipient)">(.*?)</p>\s*', re.S)
_TAG = re.compile(r"<[^>]+>")


def _lines(block: str) -> list[str]:
    """A block's lines, as text (its ``<br>`` the line breaks)."""
    return [markup.unescape(_TAG.sub("", line)).strip()
            for line in re.split(r"<br\s*/?>", block) if _TAG.sub("", line).strip()]


def pdf(html: str, title: str) -> bytes:
    """A printable PDF of a rendered letter: the sender top left, the recipient in the
    envelope's window, the rest below; in Relais's Unicode fonts (cases.printing)."""
    doc = with_fonts(FPDF(format="A4"), html + title)
    doc.set_title(title)
    doc.set_auto_page_break(auto=True, margin=20)
    doc.add_page()
    doc.set_font(FAMILY, size=11)
    body = html.split("<body>", 1)[-1].split("</body>", 1)[0]
    blocks = {m.group(1): _lines(m.group(2)) for m in _BLOCK.finditer(body)}
    body = _BLOCK.sub("", body)
    for n, line in enumerate(blocks.get("sender", [])):
        doc.set_font(FAMILY, style="B" if n == 0 else "", size=10)
        doc.multi_cell(w=WINDOW_LEFT_MM - 2 * doc.l_margin, h=5, text=line,
                       new_x="LMARGIN", new_y="NEXT")
    if blocks.get("recipient"):
        doc.set_font(FAMILY, size=11)
        doc.set_y(WINDOW_TOP_MM)
        width = doc.w - doc.r_margin - WINDOW_LEFT_MM
        for line in blocks["recipient"]:
            doc.set_x(WINDOW_LEFT_MM)
            doc.multi_cell(w=width, h=5, text=line, new_x="LMARGIN", new_y="NEXT")
        doc.set_y(max(doc.get_y(), TEXT_TOP_MM))
    doc.set_font(FAMILY, size=11)
    doc.write_html(body, font_family=FAMILY)
    return bytes(doc.output())
