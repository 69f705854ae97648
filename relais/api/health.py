"""Health for the machines around Relais: ``/healthz`` (the process answers: liveness) and
``/readyz`` (it can do its job: the database answers and, where this process runs the
orchestration, its loops are running). Neither needs a token nor says anything of a case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relais.cases.store.ops import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready: the checks say which"}})
def readyz(request: Request) -> JSONResponse:
    """200 when ready, 503 when the database does not answer or this process's embedded
    orchestration has stopped. The outbox's lag is reported, never a reason to turn traffic
    away: the API keeps accepting cases while actions wait (docs/scaled.md)."""
    alive: Callable[[], bool] | None = request.app.state.orchestration_alive
    checks: dict[str, Any] = readiness(request.app.state.services.engine)
    checks["orchestration"] = ("external" if alive is None
                               else "running" if alive() else "stopped")
    ready = checks["database"] == "ok" and checks["orchestration"] != "stopped"
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                        status_code=200 if ready else 503)
