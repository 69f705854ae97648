"""The occupancy tables, from ``cases.catalogue_queries.steering_occupancy`` (the answer of
``GET /api/steering/occupancy``): places per programme and period, by type, and per payer.
Free places are not there: capacity minus free would give the count of people placed."""

from __future__ import annotations

from datetime import date
from typing import Any

from relais.i18n import tr

from .labels import PROGRAMME_TYPES, Lang, check_lang, pick, swiss
from .model import Column, Row, Table


def _type(key: str, lang: Lang) -> str:
    return pick(PROGRAMME_TYPES.get(key), lang, key)


def _columns(lang: Lang) -> tuple[Column, ...]:
    return (Column("capacity", tr(lang, "Places"), "count"),
            Column("occupied", tr(lang, "Occupied"), "count"),
            Column("waiting", tr(lang, "Waiting"), "count"))


def by_programme(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((p["code"], pick(p["title"], lang, p["code"]), _type(p["type"], lang),
                      f"{swiss(date.fromisoformat(p['period']['from']))} – "
                      f"{swiss(date.fromisoformat(p['period']['to']))}",
                      p["capacity"], p["occupied"], p["waiting"])) for p in o["programmes"])
    return Table("occupancy", tr(lang, "Places by programme and period"),
                 (Column("code", "Code"), Column("programme", "Programme"),
                  Column("type", tr(lang, "Type")),
                  Column("period", tr(lang, "Period")), *_columns(lang)),
                 rows, lang, tr(lang, "Programmes of the whole network, whatever the route. Free "
                                "places are not published (they would give the exact count "
                                "of people placed)."))


def by_type(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((_type(k, lang), v["capacity"], v["occupied"], v["waiting"]))
                 for k, v in o["by_type"].items())
    return Table("occupancy_by_type", tr(lang, "Places by type of programme"),
                 (Column("type", tr(lang, "Type")), *_columns(lang)), rows, lang)


def by_payer(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((payer, v["assignments"], "" if v["cost_chf"] is None else v["cost_chf"]))
                 for payer, v in o["by_payer"].items())
    return Table("occupancy_by_payer", tr(lang, "Measures and costs by payer"),
                 (Column("payer", tr(lang, "Payer")),
                  Column("assignments", tr(lang, "Measures"), "count"),
                  Column("cost_chf", tr(lang, "Cost committed (CHF)"),
                         "chf")), rows, lang,
                 tr(lang, "Costs rounded to the thousand francs, shown from 5 measures on."))


def occupancy_tables(occupancy: dict[str, Any], lang: Lang = "fr") -> list[Table]:
    """The three occupancy tables of one ``steering_occupancy`` answer."""
    check_lang(lang)
    return [by_programme(occupancy, lang), by_type(occupancy, lang), by_payer(occupancy, lang)]
