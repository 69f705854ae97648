"""The four catalogues are complete and real: every message the code and the templates carry
(extracted afresh, as ``make i18n`` does) is translated in French, German, Italian and
English; the German and Italian are not copies of the English; placeholders survive; each
catalogue compiles. The ``.po`` are compiled in memory at first use (no ``.mo`` is kept, so
none can be stale)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from relais.i18n import LANGS, catalogue_path, tr, translations

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "tr": (2,),
            "said": (3,), "ntr": (2, 3)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@cache
def extracted() -> frozenset[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return frozenset(m if isinstance(m, str) else m[0] for _, _, m, _, _ in found)


@cache
def catalogue(lang: str) -> Catalog:
    with catalogue_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def test_extraction_finds_the_pages_messages() -> None:
    found = extracted()
    assert len(found) > 400
    assert {"Inbox", "Proposal refused", "Skip to content"} <= found


def _translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(forms)


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(lang: str) -> None:
    known = catalogue(lang)
    missing = sorted(m for m in extracted() if not _translated(known.get(m)))
    assert not missing, f"{lang}: {len(missing)} messages untranslated, run make i18n and " \
                        f"translate: {missing[:10]}"


@pytest.mark.parametrize("lang", ["de", "it"])
def test_german_and_italian_are_translations_not_copies(lang: str) -> None:
    known = catalogue(lang)
    words = [m for m in known if isinstance(m.id, str) and len(m.id) > 12]
    copied = [m.id for m in words if m.string == m.id]
    assert len(copied) <= len(words) // 50, f"{lang}: copied from English: {copied[:10]}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_survive_translation(lang: str) -> None:
    for m in catalogue(lang):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = _placeholders(str(ids[-1]))
        for form in filter(None, forms):
            assert _placeholders(form) == wanted, f"{lang}: {m.id!r} -> {form!r}"


def _placeholders(text: str) -> tuple[set[str], list[str]]:
    """The named placeholders (each may come back more than once) and the positional ones
    (in order, as many as the msgid has)."""
    found = PLACEHOLDER.findall(text)
    return {p for p in found if "(" in p or "{" in p}, [p for p in found if p in ("%s", "%d")]


def test_each_catalogue_compiles_and_answers_in_its_language() -> None:
    said = {lang: tr(lang, "Skip to content") for lang in LANGS}
    assert said == {"fr": "Aller au contenu", "de": "Zum Inhalt springen",
                    "it": "Vai al contenuto", "en": "Skip to content"}
    assert translations("xx") is translations("fr")
