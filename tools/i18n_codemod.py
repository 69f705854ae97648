"""Turns the hand-written two-language labels into gettext messages, re-runnable on new files.

    python tools/i18n_codemod.py FILE...
    python tools/i18n_codemod.py --pairs English Français [English Français ...]
    python tools/i18n_codemod.py --translations FILE.json  ({lang: {msgid: text}}, written
                                                            by a translator)
    python tools/i18n_codemod.py --fill   (make i18n: French from the ``fr:`` comments)

In templates, ``t("français", "English")`` with two string literals (each may carry the same
``| format(...)``) becomes ``_("English")``; in Python, ``words(lang, "français", "English")``
becomes ``tr(lang, "English")``. The English is the msgid (gettext's convention: a
translator reads the source language every tool expects); the French goes into
``relais/locale/fr/LC_MESSAGES/relais.po`` as the translation, and English's own catalogue
gets the identity. Calls it cannot convert (a variable, a ``~`` concatenation) are printed
with their line to be converted by hand. Then run ``make i18n`` to extract and update.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "relais" / "locale"

LIT = r'''(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')'''
FMT = r'''(?:\s*\|\s*format\((?P<{name}>[^()]*(?:\([^()]*\)[^()]*)*)\))?'''
TEMPLATE_CALL = re.compile(
    r"(?<![\w.])t\(\s*(?P<fr>" + LIT + ")" + FMT.format(name="f1") + r"\s*,\s*(?P<en>" + LIT
    + ")" + FMT.format(name="f2") + r"\s*\)", re.S)
PY_CALL = re.compile(
    r"(?<![\w.])words\(\s*(?P<lang>[\w.]+)\s*,\s*(?P<fr>(?:" + LIT + r"\s*)+)\s*,\s*(?P<en>(?:"
    + LIT + r"\s*)+)\s*\)", re.S)
LEFT_TEMPLATE = re.compile(r"(?<![\w.])t\(")
LEFT_PY = re.compile(r"(?<![\w.])words\(|\bif (?:fr|en|lang == \"(?:fr|en)\") else")


def _text(literal: str) -> str:
    """The value of a (possibly implicitly concatenated) string literal."""
    value = ast.literal_eval("(" + " ".join(literal.split("\n")) + ")")
    assert isinstance(value, str)
    return value


def _keep(pairs: dict[str, str], en: str, fr: str) -> bool:
    """One French per English msgid: a second, different French is reported and left
    unconverted (give it its own English by hand)."""
    if pairs.setdefault(en, fr) != fr:
        print(f"conflict: {en!r} is both {pairs[en]!r} and {fr!r}: the first is kept")
        return False
    return True


def convert_template(text: str, pairs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        if (m["f1"] or "").strip() != (m["f2"] or "").strip():
            return m[0]
        if not _keep(pairs, _text(m["en"]), _text(m["fr"])):
            return m[0]
        fmt = f" | format({m['f2']})" if m["f2"] else ""
        return f"_({m['en']}){fmt}"
    return TEMPLATE_CALL.sub(one, text)


def convert_python(text: str, pairs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        if not _keep(pairs, _text(m["en"]), _text(m["fr"])):
            return m[0]
        return f"tr({m['lang']}, {m['en'].strip()})"
    return convert_choices(PY_CALL.sub(one, text), pairs)


def _which(test: ast.expr) -> str | None:
    """``"fr"``/``"en"`` when the test reads « the page is French/English »."""
    if isinstance(test, ast.Name) and test.id in ("fr", "en"):
        return test.id
    if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id in ("lang", "self.lang") and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value in ("fr", "en")):
        return str(test.comparators[0].value)
    return None


def convert_choices(text: str, pairs: dict[str, str]) -> str:
    """``"français" if fr else "English"`` (or ``if lang == "fr"``, or the English first
    with ``en``) becomes ``said(lang, "français", "English")``, right in all four."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode()[:col].decode())

    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.IfExp) or not all(
                isinstance(n, ast.Constant) and isinstance(n.value, str)
                for n in (node.body, node.orelse)):
            continue
        which = _which(node.test)
        if which is None:
            continue
        fr_node, en_node = (node.body, node.orelse) if which == "fr" else (node.orelse,
                                                                          node.body)
        assert isinstance(fr_node, ast.Constant) and isinstance(en_node, ast.Constant)
        if not _keep(pairs, en_node.value, fr_node.value):
            continue
        fr_src = ast.get_source_segment(text, fr_node)
        en_src = ast.get_source_segment(text, en_node)
        edits.append((offset(node.lineno, node.col_offset),
                      offset(node.end_lineno or node.lineno, node.end_col_offset or 0),
                      f"said(lang, {fr_src}, {en_src})"))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    if edits and "import said" not in text and " said," not in text.split("\n\n\n")[0]:
        print(f"  add: from relais.i18n import said ({len(edits)} choices)")
    return text


def _french_already_known() -> dict[str, str]:
    """The French catalogue's pairs, so that a new file's conflicts with them show."""
    with (LOCALE / "fr" / "LC_MESSAGES" / "relais.po").open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id and m.string}


def _french_noted() -> dict[str, str]:
    """English msgid -> French, from the ``fr: …`` comments ``relais.i18n_extract`` wrote."""
    with (LOCALE / "relais.pot").open("rb") as f:
        template = read_po(f)
    found: dict[str, str] = {}
    for m in template:
        said: list[list[str]] = []
        for comment in m.auto_comments:  # a long comment comes back as several lines
            if comment.startswith("fr: "):
                said.append([comment[4:]])
            elif said:
                said[-1].append(comment)
        for lines in said:
            if m.id:
                _keep(found, str(m.id), " ".join(lines))
    return found


def translate(by_lang: dict[str, dict[str, str | list[str]]]) -> None:
    """Sets translations of messages the catalogues already hold (a plural by its
    singular, with one text per plural form); reports those they do not hold."""
    for lang, texts in by_lang.items():
        path = LOCALE / lang / "LC_MESSAGES" / "relais.po"
        with path.open("rb") as f:
            catalogue = read_po(f, locale=lang)
        for msgid, text in texts.items():
            message = catalogue.get(msgid)
            if message is None:
                print(f"{lang}: not in the catalogue: {msgid!r}")
                continue
            message.string = tuple(text) if isinstance(text, list) else text
            message.flags.discard("fuzzy")
        with path.open("wb") as f:
            write_po(f, catalogue, width=100)


def remember(pairs: dict[str, str], overwrite: bool = False) -> None:
    """French as the translation of each English msgid, English as itself (kept if set,
    unless ``overwrite``: the French written in the code is the truth)."""
    for lang, pick in (("fr", lambda en, fr: fr), ("en", lambda en, fr: en)):
        path = LOCALE / lang / "LC_MESSAGES" / "relais.po"
        with path.open("rb") as f:
            catalogue = read_po(f, locale=lang)
        for en, fr in pairs.items():
            known = catalogue.get(en)
            if known is None:
                catalogue.add(en, pick(en, fr))
            elif not known.string or overwrite:
                known.string = pick(en, fr)
        with path.open("wb") as f:
            write_po(f, catalogue, width=100)


def main(files: list[str]) -> int:
    pairs = _french_already_known()
    if files[:1] == ["--translations"]:  # {lang: {msgid: text or [plural forms]}}
        for name in files[1:]:
            translate(json.loads(Path(name).read_text("utf-8")))
        return 0
    if files[:1] == ["--fill"]:  # after pybabel update: the French the extractor noted
        remember(_french_noted())  # the French a template gave (its own msgid) is kept
        return 0
    if files[:1] == ["--pairs"]:  # converted by hand: --pairs English Français [...]
        pairs.update(zip(files[1::2], files[2::2], strict=True))
        remember(pairs)
        return 0
    for name in files:
        path = Path(name)
        before = path.read_text("utf-8")
        python = path.suffix == ".py"
        after = convert_python(before, pairs) if python else convert_template(before, pairs)
        if after != before:
            path.write_text(after, "utf-8")
        left = LEFT_PY if python else LEFT_TEMPLATE
        for m in left.finditer(after):
            line = after.count("\n", 0, m.start()) + 1
            print(f"{name}:{line}: left by hand: {after[m.start():m.start() + 90]!r}")
    remember(pairs)
    print(f"{len(pairs)} messages harvested")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
