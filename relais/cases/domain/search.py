"""The search key of a name: what a case manager types finds what the register wrote.

``fold`` writes a name in plain lower-case ASCII words: accents stripped (NFKD, combining
marks dropped), letters that do not decompose written as they are commonly transliterated
(Đ/đ → dj, ı → i, ø → o, ß → ss, æ → ae, œ → oe, …), every other character a space. So
"Djordjevic" finds "Đorđević-Šimić" and "Yildiz" finds "Yıldız".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_LETTERS = {"đ": "dj", "ð": "d", "ı": "i", "ł": "l", "ø": "o", "ß": "ss", "æ": "ae",
            "œ": "oe", "þ": "th", "ħ": "h", "ŧ": "t", "ĸ": "k", "ŋ": "n", "ſ": "s"}
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_CASE_ID = re.compile(r"^[0-9a-f][0-9a-f-]{3,35}$")


def fold(text: str) -> str:
    """``text`` as lower-case ASCII words separated by one space."""
    out = []
    for c in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(c):
            continue
        out.append(_LETTERS.get(c, c))
    return " ".join(_NOT_WORD.sub(" ", "".join(out)).split())


def name_key(official_name: str, first_name: str) -> str:
    """The search key stored with a person: both names folded, each word after a space
    (so that a word typed matches the beginning of a word: `` rochat``)."""
    return " " + fold(f"{official_name} {first_name}") + " "


def words(query: str) -> list[str]:
    """The words of a typed query, folded (at most eight: a name, not a text)."""
    return fold(query).split()[:8]


def case_number(query: str) -> str | None:
    """The beginning of a case number (4 characters at least), if ``query`` reads as one."""
    q = query.strip().lower()
    return q if _CASE_ID.match(q) else None


@dataclass(frozen=True)
class Match:
    """What a search looks for: cases of one of ``people`` (found by name or AVS number), or
    whose number begins with ``case_prefix``."""

    people: tuple[int, ...] = ()
    case_prefix: str | None = None
