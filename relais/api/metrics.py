"""``/metrics`` for Prometheus: the API's requests (by method, route template and status,
with their durations), the outbox by status and its lag, the deadlines' timer lag, read from
the database at each scrape (the same figures as ``relais status``, shared by every process),
and what this process's embedded orchestration measured (``orchestration.metrics``).

Counts only, never a case's data. Each API process counts its own requests: with
``--workers N`` a scrape reaches one of them (scrape each API process, or sum at the proxy)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relais.cases.store.ops import ops_figures
from relais.cases.store.uow import DatabaseEngine

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
router = APIRouter(tags=["health"])


class Figures:
    """One application's metrics, in a registry of its own (an app per test, per process)."""

    def __init__(self, engine: DatabaseEngine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("relais_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.seconds = Histogram("relais_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["method", "route"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
        self.registry.register(DatabaseFigures(engine))

    def exposition(self) -> bytes:
        return generate_latest(self.registry) + generate_latest(REGISTRY)


class DatabaseFigures(Collector):
    """The outbox and the timer, as the database says at the scrape."""

    def __init__(self, engine: DatabaseEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("relais_database_up", "1 when the database answered the scrape")
        s = ops_figures(self.engine)
        if s is None:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        rows = GaugeMetricFamily("relais_outbox_rows", "Outbox rows by status",
                                 labels=["status"])
        for status in ("pending", "running", "done", "failed", "cancelled"):
            rows.add_metric([status], s[f"outbox_{status}"])
        yield rows
        oldest = GaugeMetricFamily("relais_outbox_oldest_waiting_seconds",
                                   "Age of the oldest action waiting or running (0: none)")
        oldest.add_metric([], s["outbox_oldest_waiting_s"] or 0.0)
        yield oldest
        lag = GaugeMetricFamily("relais_timer_lag_seconds", "How late deadlines were handled "
                                "after falling due, over 24 hours", labels=["quantile"])
        for q, key in (("0.5", "timer_lag_p50_s"), ("0.99", "timer_lag_p99_s"),
                       ("1", "timer_lag_max_s")):
            if s[key] is not None:
                lag.add_metric([q], s[key])
        yield lag
        handled = GaugeMetricFamily("relais_timer_events_24h",
                                    "Deadlines handled by the sweep over 24 hours")
        handled.add_metric([], s["timer_events_24h"])
        yield handled


class RequestMetrics:
    """Counts each answer by its route's template (``/api/cases/{case_id}``), never by its
    path: a case id in a label would be a series per case."""

    def __init__(self, app: ASGIApp, figures: Figures) -> None:
        self.app, self.figures = app, figures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.figures.requests.labels(method, template, str(status)).inc()
            self.figures.seconds.labels(method, template).observe(
                time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(request: Request) -> Response:
    """Prometheus's text format. Counts only; keep it on the operators' network."""
    return Response(request.app.state.figures.exposition(), media_type=CONTENT_TYPE)
