"""No input produces a 500, and answers match the schema: schemathesis drives every operation
of /openapi.json against a real server (SQLite), with a bounded number of examples each."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from relais.cases.services import CaseServices
from relais.cases.store.users import add_user
from relais.db import make_engine
from relais.wiring import publish_standard_routes
from tests.api_server import running
from tests.catalogue_helpers import catalogue
from tests.conftest import ORP, PERSON, Clock


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
           ) -> Iterator[tuple[str, str]]:
    import shutil
    path = tmp_path_factory.mktemp("fuzz") / "relais.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    services = CaseServices(engine, clock=Clock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    publish_standard_routes(services)
    catalogue(services)
    services.open_case(route="reseau-cii", person=PERSON, actor=ORP, fields={"age": 40})
    token = add_user(engine, services.registry, name="fuzz", institution="CII-NE",
                     role="coordinator", now=datetime.now(UTC))
    with running(services) as base:
        yield base, token
    engine.dispose()


OPERATIONS = ["GET /healthz", "GET /readyz", "GET /metrics", "POST /api/cases", "GET /api/cases",
              "GET /api/cases/{case_id}",
              "GET /api/cases/{case_id}/history", "POST /api/cases/{case_id}/events",
              "POST /api/handoffs/{handoff_id}/accept", "POST /api/handoffs/{handoff_id}/refuse",
              "GET /api/routes", "POST /api/routes/validate", "POST /api/routes",
              "GET /api/routes/{route_id}/versions/{version}/diagram.svg", "GET /api/deadlines",
              "GET /api/steering/indicators", "GET /api/steering/flows",
              "GET /api/cases/{case_id}/consents", "POST /api/cases/{case_id}/consents",
              "POST /api/consents/{consent_id}/revoke", "GET /api/cases/{case_id}/exchanges",
              "POST /api/cases/{case_id}/exchanges/{exchange_id}/informed",
              "GET /api/cases/{case_id}/documents", "POST /api/cases/{case_id}/documents",
              "POST /api/cases/{case_id}/notes",
              "GET /api/cases/{case_id}/documents/{document_id}", "GET /api/tasks",
              "GET /api/ops/status", "GET /api/programmes", "GET /api/programmes/{code}/places",
              "GET /api/cases/{case_id}/measures", "POST /api/cases/{case_id}/measures",
              "POST /api/cases/{case_id}/measures/{measure_id}/start",
              "POST /api/cases/{case_id}/measures/{measure_id}/end",
              "GET /api/steering/occupancy", "GET /api/steering/tables",
              "GET /api/steering/tables/{key}.csv", "GET /api/steering/tables/{key}.xlsx",
              "GET /api/steering/tables.xlsx", "GET /api/steering/flows.svg",
              "GET /api/steering/report.html", "GET /api/steering/report.pdf",
              "PUT /api/cases/{case_id}/contact", "POST /api/cases/{case_id}/partners",
              "GET /api/steering/figures.json", "GET /api/steering/figures.csv",
              "POST /api/cases/{case_id}/signoff/{answer}",
              "POST /api/cases/{case_id}/escalation/settle",
              "GET /api/cases/{case_id}/partners",
              "POST /api/cases/{case_id}/partners/{institution}/leave",
              "GET /api/cases/{case_id}/reads"]


def test_the_fuzzed_operations_are_all_the_operations(server: tuple[str, str]) -> None:
    base, _ = server
    found = {op.ok().label for op in schemathesis.openapi.from_url(
        f"{base}/openapi.json").get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_gets_a_server_error(label: str, server: tuple[str, str]) -> None:
    base, token = server
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operation = api.find_operation_by_label(label)
    assert operation is not None
    headers = {"Authorization": f"Bearer {token}"}

    @settings(max_examples=int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "30")), deadline=None,
              database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        response = case.call(base_url=base, headers=headers)
        # no 500, and every answer the schema documents has the schema's shape
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                 content_type_conformance,
                                                 response_schema_conformance])
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "message"}, response.text

    call()
