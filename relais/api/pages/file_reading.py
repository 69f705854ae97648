"""A gathered file (the JSON an institution's system answers) as people read it: its keys
turned into words, dates the Swiss way, booleans oui/non, lists and nested records as
labelled sections. Pure: no request, no database; the page (``case_files``) reads the file
through the access policy first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from relais.institutions.dates import swiss_date

# words a key is made of that are not written as they are spelt in the key
_WORDS = {"orp": "ORP", "ai": "AI", "ac": "AC", "avs": "AVS", "mmt": "MMT", "cii": "CII",
          "cfc": "CFC", "afp": "AFP", "oai": "OAI", "ssr": "SSR", "lamal": "LAMal",
          "delai": "délai", "deposee": "déposée", "detection": "détection",
          "precoce": "précoce", "incapacite": "incapacité", "mesures": "mesures",
          "medical": "médical", "economique": "économique", "unite": "unité",
          "dettes": "dettes", "annoncees": "annoncées", "scolarite": "scolarité",
          "achevee": "achevée", "indemnites": "indemnités", "gain": "gain",
          "assure": "assuré", "pct": "%", "chf": "CHF", "jours": "jours",
          "telephone": "téléphone", "prenom": "prénom", "numero": "numéro",
          "reponse": "réponse", "date": "date", "debut": "début", "periode": "période"}
# units written after the words, in brackets: gain_assure_chf -> Gain assuré (CHF)
_UNITS = {"chf": "CHF", "pct": "%", "jours": "jours"}
# whole keys whose words are better said otherwise
_KEYS = {"delai_cadre_jours": "Délai-cadre (jours)", "institution": "Institution",
         "avs": "Numéro AVS", "aptitude_au_placement": "Aptitude au placement",
         "incapacite_travail_pct": "Incapacité de travail (%)"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def label(key: str) -> str:
    """``inscription_orp`` -> « Inscription ORP »; ``loyer_chf`` -> « Loyer (CHF) »."""
    if key in _KEYS:
        return _KEYS[key]
    parts = [p for p in re.split(r"[_\s]+", key.strip()) if p] or [key]
    unit = _UNITS.get(parts[-1].lower()) if len(parts) > 1 else None
    if unit:
        parts = parts[:-1]
    words = [_WORDS.get(p.lower(), p) for p in parts]
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def value_text(value: Any) -> str:
    """A single value in words: oui/non, Swiss dates, numbers with thin groups, « — » for
    nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u2019")  # 12’000, as Swiss French writes it
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", "\u2019")
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            return swiss_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{swiss_date(at.date())} {at:%H:%M}"
    return str(value)


@dataclass
class Section:
    """A record as a definition list (``rows``), its nested records as sections of their
    own; a list of plain values is one row, listed."""

    title: str
    rows: list[tuple[str, str | list[str]]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def section(title: str, record: dict[str, Any], depth: int = 0) -> Section:
    out = Section(title)
    for key, value in record.items():
        name = label(str(key))
        if isinstance(value, dict) and depth < 4:
            out.sections.append(section(name, value, depth + 1))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) \
                and depth < 4:
            out.sections.extend(section(f"{name} {n}", v, depth + 1)
                                for n, v in enumerate(value, 1))
        elif isinstance(value, list) and value:
            out.rows.append((name, [value_text(v) for v in value]))
        else:
            out.rows.append((name, value_text(value)))
    return out


def readable(media_type: str, content: bytes) -> Section | None:
    """The file as a section when it is a JSON record; None when it is anything else (a
    PDF, an image: downloaded, not read here)."""
    if media_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        record = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(record, list):
        record = {f"élément {n}": v for n, v in enumerate(record, 1)}
    return section("", record) if isinstance(record, dict) else None
