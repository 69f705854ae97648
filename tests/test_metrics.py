"""`/metrics` over a real server: requests by route template (never a case id), the outbox
and the timer read from the database, and what the embedded orchestration measured."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from relais.cases.services import CaseServices
from relais.orchestration.orchestrator import Orchestrator
from tests.api_server import People, running
from tests.conftest import ORP, PERSON, refer
from tests.test_orchestration import (  # noqa: F401 - the orchestration's real peers
    mail,
    oai_service,
    orchestra,
    shared_folder,
)


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(f"{base}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_requests_are_counted_by_route_template_and_the_outbox_by_status(
        services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        opened = people["ORP-NE"].post("/api/cases", json={
            "route": "reseau-cii", "person": PERSON,
            "fields": {"age": 48}, "consent": {"grantor": "Jean Muster"}}).json()
        for _ in range(2):
            assert people["ORP-NE"].get(f"/api/cases/{opened['id']}").status_code == 200
        assert people["SSR-LCF"].get(f"/api/cases/{opened['id']}").status_code == 404
        text = httpx.get(f"{base}/metrics").text
        figures = scrape(base)
        people.close()
    assert opened["id"] not in text  # a case id is never a label
    route = "/api/cases/{case_id}"
    assert figures[("relais_http_requests_total", (
        ("method", "GET"), ("route", route), ("status", "200")))] == 2
    assert figures[("relais_http_requests_total", (
        ("method", "GET"), ("route", route), ("status", "404")))] == 1
    assert figures[("relais_http_request_duration_seconds_count", (
        ("method", "POST"), ("route", "/api/cases")))] == 1
    assert figures[("relais_database_up", ())] == 1
    assert figures[("relais_outbox_rows", (("status", "pending"),))] == 1  # the referral's
    assert figures[("relais_outbox_oldest_waiting_seconds", ())] >= 0


def test_the_embedded_orchestration_reports_its_actions(
        services: CaseServices, orchestra: Orchestrator) -> None:  # noqa: F811
    key = ("relais_action_duration_seconds_count",
           (("action", "notify_institutions"), ("outcome", "done")))
    with running(services) as base:
        before = scrape(base).get(key, 0.0)
        refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                           fields={"age": 48})
        orchestra.tick()
        after = scrape(base)
    assert after[key] == before + 1
    assert after[("relais_outbox_rows", (("status", "done"),))] == 1
