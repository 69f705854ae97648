"""Babel's extraction for Relais' Python: gettext's keywords, and the texts still written in
both languages where they are defined (used by ``babel.cfg``; never imported at run time).

Besides ``tr(lang, "…")`` and ``N_("…")``, three older shapes carry a French and an English
text; their English is a msgid (the French goes to the translators as a comment,
``fr: …``, and into fr.po through ``tools/i18n_fill.py``):

- a bilingual literal ``"français / English"`` (an error message): shown split, one
  language per string (``relais.i18n.localize``);
- a pair ``("français", "English")``: shown through ``words(lang, fr, en)``;
- a text ``{"fr": "…", "en": "…"}``: shown through ``pick(text, lang)``;
- a message with values ``bi("français %(x)s", "English %(x)s", x=…)``: ``localize``.

An f-string ``f"… {x} … / English"`` whose English carries no value gives that English as
a msgid too; one whose English carries values has no fixed English and is not extracted:
it shows its English half in German and Italian until it is written with ``tr``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator, Mapping
from io import BytesIO
from typing import IO, Any

from babel.messages.extract import extract_python

# pairs of two strings that are not a French and an English text (codes, formats, keys)
NOT_PAIRS = frozenset({
    ("fr", "en"), ("integer", "number"), ("oui", "non"), ("email", "phone"),
    ("sex", "nationality"), ("lead", "step"), ("handoff_refused", "handoff_expired"),
    ("deadline", "handoff_deadline"), ("boolean", "consent"), ("%Y-%m-%d", "%d.%m.%Y"),
    ("note", "categorie"), ("fichier", "titre"),  # form fields' names
})
# words of the code (states of a row, operators, types) that pair with one another
CODE_WORDS = frozenset({"!=", "==", "cancelled", "failed", "dispatched", "pending",
                        "escalated", "open", "false", "true", "max", "min", "situation",
                        "identite", "text", "boolean"})
_PLACEHOLDERS = re.compile(r"\{[^{}]*\}|%\(\w+\)[sd]|%[sd]")
_CODE = re.compile(r"^[a-z0-9_.:\-]*$")
_NUMBER = re.compile(r"^[0-9.]+$")

Found = tuple[int, Any, Any, Any]  # (line, keyword, message(s), comments), as Babel has it


def bilingual_halves(text: str) -> tuple[str, str] | None:
    """French and English of a ``"français / English"`` literal, else None."""
    fr, sep, en = text.partition(" / ")
    if not sep or not fr.strip() or not en.strip() or fr == en:
        return None
    if fr.count("(") != fr.count(")"):  # "(aucun / none)": a slash inside one phrase
        return None
    if sorted(_PLACEHOLDERS.findall(fr)) != sorted(_PLACEHOLDERS.findall(en)):
        return None  # "point de contrôle refusé / checkpoint refused: %s": a log line
    return fr, en


def fstring_halves(node: ast.JoinedStr) -> tuple[str, str] | None:
    """An f-string ``f"… {x} … / English"`` whose English has no value written into it: its
    English is a msgid (its French, values shown as …, goes to the translators)."""
    fr_parts: list[str] = []
    for i, part in enumerate(node.values):
        if not isinstance(part, ast.Constant):
            fr_parts.append("…")
            continue
        text = str(part.value)
        if " / " not in text:
            fr_parts.append(text)
            continue
        before, _, after = text.partition(" / ")
        rest = node.values[i + 1:]
        if not all(isinstance(r, ast.Constant) for r in rest):
            return None
        en = after + "".join(str(r.value) for r in rest if isinstance(r, ast.Constant))
        fr = "".join(fr_parts) + before
        if not fr.strip() or not en.strip() or _PLACEHOLDERS.search(en):
            return None
        return fr, en
    return None


def _is_pair(fr: str, en: str) -> bool:
    if not fr.strip() or not en.strip() or (fr, en) in NOT_PAIRS or fr in CODE_WORDS:
        return False
    if sorted(_PLACEHOLDERS.findall(fr)) != sorted(_PLACEHOLDERS.findall(en)):
        return False  # not one text in two languages (each names its own part)
    if _NUMBER.match(fr) or _NUMBER.match(en):
        return False
    if not any(c.isalpha() for c in fr + en):  # (",", ":"): JSON's separators, not words
        return False
    if "/" in en and " " not in en:  # media types
        return False
    return not (_CODE.match(fr) and _CODE.match(en) and "_" in fr + en)


def _strings(nodes: list[ast.expr]) -> list[str] | None:
    values = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return values if len(values) == len(nodes) else None


def pairs(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, French, English) of every two-language text written in this module (not its
    docstrings, which speak of them, nor f-strings, which have no fixed text)."""
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    docstrings |= {id(part) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                   for part in n.values}  # the pieces of an f-string are no message
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            halves = fstring_halves(node)
            if halves:
                yield node.lineno, *halves
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            halves = bilingual_halves(node.value)
            if halves:
                yield node.lineno, *halves
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "bi" and len(node.args) >= 2):
            both = _strings(node.args[:2])
            if both:
                yield node.lineno, both[0], both[1]
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            both = _strings(node.elts)
            if both and _is_pair(both[0], both[1]):
                yield node.lineno, both[0], both[1]
        elif isinstance(node, ast.Dict):
            keys = _strings([k for k in node.keys if k is not None])
            if keys and {"fr", "en"} <= set(keys):
                by_key = dict(zip(keys, node.values, strict=False))
                texts = _strings([by_key["fr"], by_key["en"]])
                if texts and texts[0].strip() and texts[1].strip():
                    yield node.lineno, texts[0], texts[1]


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: dict[str, Any]) -> Iterator[Found]:
    source = fileobj.read()
    yield from extract_python(BytesIO(source), keywords, comment_tags, options)  # type: ignore[arg-type]
    try:
        tree = ast.parse(source)
    except SyntaxError:  # extract_python has said what it could
        return
    for line, fr, en in pairs(tree):
        yield line, None, en, [f"fr: {fr}"]
