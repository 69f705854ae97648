"""The case managers' pages in one router: referral first (``/dossiers/nouveau`` must be
matched before ``/dossiers/{case_id}``), then the inbox, the case page, its consents and
its partners."""

from __future__ import annotations

from fastapi import APIRouter

from . import case_consents, case_files, case_page, case_partners, case_reads, inbox, referral

router = APIRouter(include_in_schema=False)
for part in (referral, inbox, case_page, case_files, case_consents, case_partners,
             case_reads):
    router.include_router(part.router)
