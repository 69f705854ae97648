"""Pages from the Jinja2 templates in ``templates/pages``: in French, German, Italian or
English (``jinja2.ext.i18n`` over the gettext catalogues, one environment per language),
Swiss dates, the signed-in person and the CSRF token in every page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from relais.api.reporting.labels import pick, words
from relais.cases.domain.actors import Actor
from relais.i18n import LANGS, NAMES, day, known, long_day, negotiate, number, tr, translations
from relais.institutions.dates import ZURICH, deadline_end, local_day

from .people import NAVIGATION
from .session import csrf_token

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pages"


def swiss_datetime(d: datetime | None) -> str:
    return d.astimezone(ZURICH).strftime("%d.%m.%Y %H:%M") if d else "—"


def iso_day(d: date | datetime | None) -> str:
    """For ``<input type="date">`` values, which are ISO whatever the language."""
    if d is None:
        return ""
    return local_day(d).isoformat()


@lru_cache(maxsize=len(LANGS))
def environment(lang: str) -> Environment:
    """The templates with ``_()`` bound to the language's catalogue (one per language, so
    that concurrent requests in different languages never share a gettext)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    env.filters.update(swiss_date=partial(day, lang=lang), swiss_datetime=swiss_datetime,
                       deadline_end=deadline_end, iso_day=iso_day,
                       long_day=partial(long_day, lang=lang), number=partial(number, lang=lang))
    return env


def lang_of(request: Request) -> str:
    """The language the person chose (the switch), else the browser's, else French."""
    return (known(request.session.get("lang"))
            or negotiate(request.headers.get("accept-language")))


def title_in(lang: str, title: Mapping[str, str] | Any) -> str:
    """A route's ``{fr, en}`` title in the page's language, French when English is missing."""
    if isinstance(title, Mapping):
        return pick(title, lang, next(iter(title.values()), ""))
    return str(title)


def _navigation(person: Actor | None, path: str) -> list[tuple[str, str, bool]]:
    """The person's links, the one whose path is the longest prefix of this page's marked
    current (``/dossiers/nouveau`` over ``/dossiers``)."""
    links = NAVIGATION[person.role] if person else []
    matching = [href for href, _ in links if path == href or path.startswith(href + "/")]
    current = max(matching, key=len, default=None)
    return [(href, label, href == current) for href, label in links]


def page(request: Request, template: str, person: Actor | None, status: int = 200,
         **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    html = environment(lang).get_template(template).render(
        request=request, person=person, lang=lang, t=partial(words, lang), langs=NAMES,
        tr=partial(tr, lang),
        title_in=lambda title: title_in(lang, title),
        csrf=csrf_token(request.session), path=request.url.path,
        navigation=_navigation(person, request.url.path),
        full_path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context)
    return HTMLResponse(html, status_code=status)
