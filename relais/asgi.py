"""The ASGI application for uvicorn workers (``relais serve --workers N``): each worker builds
its services from the settings; the parent process has already migrated the database."""

from __future__ import annotations

from fastapi import FastAPI

from .wiring import build_app, build_services


def app() -> FastAPI:
    return build_app(build_services(migrate=False))
