"""The coordinators' pages in one router: the published routes, the route workshop, and the
coordination page (escalations to settle, revolving-door cases)."""

from __future__ import annotations

from fastapi import APIRouter

from . import coordination, routes_book, workshop, workshop_guide

router = APIRouter(include_in_schema=False)
# the workshop's fixed paths first, then the published routes, then the coordination
for part in (workshop.router, workshop_guide.router, routes_book.router, coordination.router):
    router.include_router(part)
