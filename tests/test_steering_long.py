"""The steering figures for BI: one row per published number, stable keys, the period and
the route on every row, suppressed counts flagged, never "<5" in a number column; as CSV
and JSON over the API."""

from __future__ import annotations

import csv
import io

from relais.cases.steering.long import FIELDS, rows
from relais.cases.steering.protect import SMALL
from tests.api_server import People, running
from tests.test_steering import World, figures, world  # noqa: F401 - the March world


def test_every_published_number_is_one_row_and_nothing_is_recomputed(
        world: World) -> None:  # noqa: F811
    f = figures(world.s)
    out = rows(f)
    assert all(set(r) == set(FIELDS) for r in out)
    assert {(r["period_from"], r["period_to"], r["route"]) for r in out} == {
        ("2026-03-01", "2026-03-31", "")}
    by = {(r["indicator"], r["breakdown"]): r for r in out}
    assert by["referred", ""]["value"] == f["referred"] == 10
    for key, shown in f["open_by_state"].items():
        row = by["open_by_state", key]
        assert (row["value"], row["suppressed"]) == ((None, True) if shown == SMALL
                                                     else (shown, False))
    assert not any(isinstance(r["value"], str) for r in out)  # never "<5" in the numbers
    assert any(r["suppressed"] for r in out)  # March has small counts


def test_the_api_gives_the_long_format_as_csv_and_json_named_by_route_and_period(
        world: World) -> None:  # noqa: F811
    with running(world.s) as base:
        people = People(world.s, base)
        try:
            group = people["CII-NE:steering"]
            march = {"from": "2026-03-01", "to": "2026-03-31", "route": "reseau-cii"}
            as_json = group.get("/api/steering/figures.json", params=march)
            assert as_json.status_code == 200, as_json.text
            assert as_json.json()["items"] == rows(figures(
                world.s, route="reseau-cii"))
            as_csv = group.get("/api/steering/figures.csv", params=march)
            assert as_csv.headers["content-type"].startswith("text/csv")
            assert as_csv.headers["content-disposition"] == (
                'attachment; filename="relais-steering-reseau-cii-2026-03-01-2026-03-31.csv"')
            table = list(csv.DictReader(io.StringIO(as_csv.text)))
            assert tuple(table[0]) == FIELDS and not as_csv.text.startswith("\ufeff")
            assert len(table) == len(as_json.json()["items"])
            assert all(r["value"] == "" for r in table if r["suppressed"] == "true")
            every = group.get("/api/steering/figures.csv", params={
                "from": "2026-03-01", "to": "2026-03-31"})
            assert "relais-steering-all-2026-03-01" in every.headers["content-disposition"]
            assert people["ORP-NE"].get("/api/steering/figures.csv").status_code == 403
        finally:
            people.close()
