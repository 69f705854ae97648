"""The ASGI application for uvicorn workers (``relais serve --workers N``): each worker builds
its services from the settings; the parent process has already migrated the database."""

from __future__ import annotations

from fastapi import FastAPI

from .logs import configure
from .settings import settings
from .wiring import build_app, build_services


def app() -> FastAPI:
    configure(settings().log_format)  # a worker process starts without the parent's logging
    return build_app(build_services(migrate=False))
