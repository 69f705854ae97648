"""The occupancy tables, from ``cases.catalogue_queries.steering_occupancy`` (the answer of
``GET /api/steering/occupancy``): places per programme and period, by type, and per payer.
Free places are not there: capacity minus free would give the count of people placed."""

from __future__ import annotations

from datetime import date
from typing import Any

from .labels import PROGRAMME_TYPES, Lang, check_lang, pick, swiss, words
from .model import Column, Row, Table


def _type(key: str, lang: Lang) -> str:
    return pick(PROGRAMME_TYPES.get(key), lang, key)


def _columns(lang: Lang) -> tuple[Column, ...]:
    return (Column("capacity", words(lang, "Places", "Places"), "count"),
            Column("occupied", words(lang, "Occupées", "Occupied"), "count"),
            Column("waiting", words(lang, "En attente", "Waiting"), "count"))


def by_programme(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((p["code"], pick(p["title"], lang, p["code"]), _type(p["type"], lang),
                      f"{swiss(date.fromisoformat(p['period']['from']))} – "
                      f"{swiss(date.fromisoformat(p['period']['to']))}",
                      p["capacity"], p["occupied"], p["waiting"])) for p in o["programmes"])
    return Table("occupancy", words(lang, "Places par programme et période",
                                 "Places by programme and period"),
                 (Column("code", "Code"), Column("programme", "Programme"),
                  Column("type", words(lang, "Type", "Type")),
                  Column("period", words(lang, "Période", "Period")), *_columns(lang)),
                 rows, lang, words(lang, "Programmes de tout le réseau, quelle que soit la "
                                "route. Les places libres ne sont pas publiées (elles "
                                "donneraient le nombre exact de personnes placées).",
                                "Programmes of the whole network, whatever the route. Free "
                                "places are not published (they would give the exact count "
                                "of people placed)."))


def by_type(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((_type(k, lang), v["capacity"], v["occupied"], v["waiting"]))
                 for k, v in o["by_type"].items())
    return Table("occupancy_by_type", words(lang, "Places par type de programme",
                                         "Places by type of programme"),
                 (Column("type", words(lang, "Type", "Type")), *_columns(lang)), rows, lang)


def by_payer(o: dict[str, Any], lang: Lang) -> Table:
    rows = tuple(Row((payer, v["assignments"], "" if v["cost_chf"] is None else v["cost_chf"]))
                 for payer, v in o["by_payer"].items())
    return Table("occupancy_by_payer", words(lang, "Mesures et coûts par payeur",
                                          "Measures and costs by payer"),
                 (Column("payer", words(lang, "Payeur", "Payer")),
                  Column("assignments", words(lang, "Mesures", "Measures"), "count"),
                  Column("cost_chf", words(lang, "Coût engagé (CHF)", "Cost committed (CHF)"),
                         "chf")), rows, lang,
                 words(lang, "Coûts arrondis au millier de francs, publiés dès 5 mesures.",
                    "Costs rounded to the thousand francs, shown from 5 measures on."))


def occupancy_tables(occupancy: dict[str, Any], lang: Lang = "fr") -> list[Table]:
    """The three occupancy tables of one ``steering_occupancy`` answer."""
    check_lang(lang)
    return [by_programme(occupancy, lang), by_type(occupancy, lang), by_payer(occupancy, lang)]
