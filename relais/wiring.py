"""Build the running pieces from settings: the engine, migrations, standard routes, services."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from relais.cases.catalogue_services import MeasureServices
from relais.cases.services import CaseServices
from relais.conventions.catalogue_file import parse_catalogue
from relais.conventions.policy import Policy

from .db import make_engine
from .keys import secret_key
from .migrate import upgrade
from .settings import settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def standard_route_texts() -> dict[str, str]:
    folder = resources.files("relais.workflows").joinpath("routes")
    return {f.name: f.read_text("utf-8") for f in sorted(folder.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".yaml")}


def publish_standard_routes(services: CaseServices) -> list[str]:
    """Publish the shipped routes; already published identical versions are left alone."""
    published = []
    for text in standard_route_texts().values():
        route, new = services.publish_route(text, by="relais")
        if new:
            published.append(f"{route.id} v{route.version}")
    return published


def standard_programmes_text() -> str:
    data = resources.files("relais.conventions").joinpath("data/programmes-ne.yaml")
    return data.read_text("utf-8")


def load_standard_programmes(services: CaseServices) -> list[str]:
    """Load the shipped catalogue of measures: what is missing is added, nothing an operator
    loaded is changed (``relais programmes load`` does that)."""
    measures = MeasureServices(services)
    programmes, problems = parse_catalogue(standard_programmes_text(), measures.route_fields(),
                                           services.registry)
    if programmes is None:
        raise ValueError("conventions/data/programmes-ne.yaml: "
                         + "; ".join(p.render("programmes-ne.yaml") for p in problems))
    return measures.load(programmes, only_new=True).added


def build_services(url: str | None = None, *, migrate: bool = True,
                   engine: Engine | None = None, **kw: object) -> CaseServices:
    s = settings()
    engine = engine or make_engine(url or s.database_url, sqlite_synchronous=s.sqlite_synchronous)
    if migrate:
        upgrade(engine)
    policy = Policy(revolving_door_transfers=s.revolving_door_transfers)
    services = CaseServices(engine, policy=policy, **kw)  # type: ignore[arg-type]
    if migrate:
        publish_standard_routes(services)
        load_standard_programmes(services)
        services.record_missing_partners()
    return services


def proxy_options(trusted_proxies: str) -> dict[str, object]:
    """uvicorn's options for ``RELAIS_TRUSTED_PROXIES``: X-Forwarded-For is believed only
    when it comes from one of them (uvicorn's own default would trust 127.0.0.1)."""
    return {"proxy_headers": bool(trusted_proxies),
            "forwarded_allow_ips": trusted_proxies or None}


def build_app(services: CaseServices,
              orchestration_alive: Callable[[], bool] | None = None) -> FastAPI:
    """The application with the pages' session key of the settings (every process alike);
    ``orchestration_alive``: where this process runs the orchestration, whether it still
    does (``/readyz``)."""
    from relais.api.app import create_app  # the command line's other commands need no web stack
    s = settings()
    return create_app(services, session_key=secret_key(s.secret_key, Path("var")),
                      https_only=s.secure_cookies, orchestration_alive=orchestration_alive,
                      upload_limit=s.upload_max_mb * 1024 * 1024)
