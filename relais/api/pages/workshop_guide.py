"""The route-format guide (docs/routes.md) as a page of the workshop: coordinators read it
where they write routes. Rendered from the same file the repository documents, raw HTML in
it escaped (CommonMark with tables, ``html`` off)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from .people import CoordinatorPerson
from .render import page

router = APIRouter(include_in_schema=False)
GUIDE = Path(__file__).resolve().parents[2] / "templates" / "docs" / "routes.md"


@cache
def guide_html() -> Markup:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(md.render(GUIDE.read_text("utf-8")))  # noqa: S704 - html off: escaped


@router.get("/routes/guide")
def guide(request: Request, person: CoordinatorPerson) -> Response:
    return page(request, "workshop_guide.html.j2", person, guide=guide_html())
