"""The four languages of Relais: gettext catalogues, the language a request asks for, Swiss
dates and numbers through Babel.

The catalogues are ``relais/locale/<lang>/LC_MESSAGES/relais.po``; their msgids are the
English text. Each ``.po`` is compiled in memory the first time a language is used (a few
milliseconds, once per process): no ``.mo`` is committed, so none can be stale, and a fresh
clone or the wheel has everything it needs. ``make i18n`` extracts and updates them.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from relais.institutions.dates import local_day

LANGS = ("fr", "de", "it", "en")
DEFAULT = "fr"
NAMES = {"fr": "Français", "de": "Deutsch", "it": "Italiano", "en": "English"}
# Babel's locales: the Swiss ones where Switzerland writes the language
LOCALES = {"fr": "fr_CH", "de": "de_CH", "it": "it_CH", "en": "en_CH"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "relais"


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(lang: str) -> gettext.NullTranslations:
    """The language's compiled catalogue (an unknown language gets French's)."""
    return _compiled(lang if lang in LANGS else DEFAULT)


@lru_cache(maxsize=len(LANGS))
def _compiled(lang: str) -> gettext.NullTranslations:
    with catalogue_path(lang).open("rb") as f:
        catalogue = read_po(f, locale=LOCALES[lang], domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def tr(lang: str, msgid: str) -> str:
    """``msgid`` (English) in ``lang``."""
    return translations(lang).gettext(msgid)


def ntr(lang: str, singular: str, plural: str, n: int) -> str:
    """The singular or a plural (as the language counts) with ``%(n)d`` filled in."""
    return translations(lang).ngettext(singular, plural, n) % {"n": n}


def duration_words(n: int, unit: str, lang: str) -> str:
    """« 10 jours ouvrables », "1 working day": the number with its unit, as the language
    counts (a plural for each of the catalogue's forms)."""
    if unit == "working_days":
        return ntr(lang, "%(n)d working day", "%(n)d working days", n)
    if unit == "days":
        return ntr(lang, "%(n)d day", "%(n)d days", n)
    if unit == "weeks":
        return ntr(lang, "%(n)d week", "%(n)d weeks", n)
    return ntr(lang, "%(n)d month", "%(n)d months", n)


def has(lang: str, msgid: str) -> bool:
    """Whether the language's catalogue translates ``msgid``."""
    return msgid in getattr(translations(lang), "_catalog", {})


def said(lang: str, fr: str, en: str) -> str:
    """A text written in French and English where it is defined, in ``lang``: the French as
    written, else the catalogue's translation of the English (the English when it has none)."""
    return fr if lang == "fr" else tr(lang, en)


def text_in(text: Mapping[str, str] | None, lang: str, fallback: str = "") -> str:
    """A ``{"fr": …, "en": …}`` text (a route's title, a registry name) in ``lang``: its own
    ``de``/``it`` when written, else the catalogue's translation of its English, else its
    French, else the fallback (a key)."""
    if not text:
        return fallback
    if text.get(lang):
        return text[lang]
    en = text.get("en")
    if en and has(lang, en):
        return tr(lang, en)
    return text.get("fr") or fallback


class Said(str):
    """A message written in French and English with values (``bi``): as a string it is
    « français / English », as before; ``localize`` gives one language, translated."""

    fr: str
    en: str
    params: Mapping[str, object]


def bi(fr: str, en: str, **params: object) -> Said:
    """An error's message with values, ``%(name)s`` in both texts: the English is the msgid,
    the values are written in once the language is known (``localize``; a value that is
    itself a ``Said`` is given in the same language)."""
    said = Said(f"{fr % _in(params, 'fr')} / {en % _in(params, 'en')}")
    said.fr, said.en, said.params = fr, en, params
    return said


def _in(params: Mapping[str, object], lang: str) -> dict[str, object]:
    return {k: localize(v, lang) if isinstance(v, Said) else v for k, v in params.items()}


def localize(message: str, lang: str) -> str:
    """A message in one language: a ``Said`` in ``lang``; ``"français / English"`` (an error
    written in both, see relais.i18n_extract) gives its French or the English's translation;
    any other message is a msgid."""
    if isinstance(message, Said):
        return (message.fr if lang == "fr" else tr(lang, message.en)) % _in(message.params, lang)
    fr, sep, en = message.partition(" / ")
    if sep and fr and en:
        return said(lang, fr, en)
    return tr(lang, message)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's own name for a marker)
    """Marks a message for extraction where it is written; translated where it is shown."""
    return msgid


def known(lang: object) -> str | None:
    """``lang`` when it is one of the four (``de-CH`` is ``de``)."""
    if not isinstance(lang, str):
        return None
    short = lang.strip().lower()[:2]
    return short if short in LANGS else None


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The first of the four languages an ``Accept-Language`` header asks for, by weight."""
    asked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        weight = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        lang = known(tag)
        if lang and weight > 0:
            asked.append((-weight, i, lang))
    return min(asked)[2] if asked else default


def from_environment(value: str | None) -> str:
    """The command line's language from ``LANG``/``LC_ALL`` (``de_CH.UTF-8`` is ``de``)."""
    return known(value) or DEFAULT


def day(d: date | datetime | None, lang: str = DEFAULT) -> str:
    """A day as the Swiss write it in every language: 07.12.2026 (Neuchâtel's day)."""
    if d is None:
        return "—"
    return format_date(local_day(d), "dd.MM.yyyy", locale=LOCALES.get(lang, "fr_CH"))


def long_day(d: date | datetime, lang: str = DEFAULT) -> str:
    """A day with its weekday and month in words: « lundi 7 décembre 2026 »."""
    return format_date(local_day(d), "EEEE d MMMM y", locale=LOCALES.get(lang, "fr_CH"))


def weekday_day(d: date | datetime, lang: str = DEFAULT) -> str:
    """A day with its weekday, the date in Swiss digits: « jeudi 12.02.2026 »."""
    return format_date(local_day(d), "EEEE dd.MM.yyyy", locale=LOCALES.get(lang, "fr_CH"))


def number(n: int | float | Decimal, lang: str = DEFAULT) -> str:
    """A number with the language's Swiss grouping (1’234 in de_CH, 1 234 in fr_CH)."""
    return format_decimal(n, locale=LOCALES.get(lang, "fr_CH"))
