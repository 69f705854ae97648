"""The steering tables of one indicators answer (``cases.steering.indicators``), in one
language. Each builder reads only published counts and keeps them as they are ("<5" too).
Definitions of what each figure counts: docs/architecture.md, "Steering figures"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .labels import KINDS, Lang, Titles, check_lang, ordered, pick, words
from .model import Cell, Column, Row, Table

Builder = Callable[[dict[str, Any], Titles, Lang], Table]


def _kind(code: str, lang: Lang) -> str:
    return f"{pick(KINDS.get(code), lang, code)} ({code})" if code in KINDS else code


def _count_col(lang: Lang, fr: str = "Nombre", en: str = "Count") -> Column:
    return Column("count", words(lang, fr, en), "count")


def _by(counts: Mapping[str, Cell], order: tuple[str, ...], label: Callable[[str], str],
        level: int = 0) -> list[Row]:
    return [Row((label(k), counts[k]), level) for k in ordered(counts, order)]


def review(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    """The table of the Neuchâtel review (2009–2013): files signalled, in follow-up, closed,
    solutions by outcome, outside the criteria."""
    outcomes = f["closed_by_outcome"]
    rows = [Row((words(lang, "Dossiers annoncés", "Files signalled"), f["referred"])),
            Row((words(lang, "En cours de suivi (à la fin de la période)",
                    "In follow-up (at the end of the period)"), f["open"])),
            Row((words(lang, "Situations clôturées", "Closed"), f["closed"])),
            Row((words(lang, "Issues à la clôture (solutions trouvées et autres issues)",
                    "Outcomes at closure (solutions found and other outcomes)"),
                 f["closed_with_outcome"])),
            *_by(outcomes, t.outcome_order, lambda k: t.outcome(k, lang), level=1),
            Row((words(lang, "Ne correspondant pas aux critères (non retenus)",
                    "Outside the criteria (not taken on)"), f["outside_criteria"])),
            *_by(f["closed_without_outcome_by_state"], t.state_order,
                 lambda k: t.state(k, lang), level=1)]
    return Table("review", words(lang, "Indicateurs (forme du bilan de législature)",
                              "Indicators (as in the Neuchâtel review)"),
                 (Column("indicator", words(lang, "Indicateur", "Indicator")), _count_col(lang)),
                 tuple(rows), lang,
                 words(lang, "Chaque nombre est arrondi à 5 à partir du compte exact : les "
                          "lignes détaillées ne s'additionnent donc pas toujours au total.",
                    "Each count is rounded to 5 from the exact count: the detail rows do not "
                    "always add up to their total."))


def referrals_by_institution(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((code, t.institution(code, lang), n)) for code, n in f["referred_by"].items()]
    rows.append(Row((words(lang, "Total", "Total"), "", f["referred"])))
    return Table("referrals_by_institution", words(lang, "Signalements par institution",
                                                "Referrals by source institution"),
                 (Column("code", words(lang, "Code", "Code")),
                  Column("institution", words(lang, "Institution", "Institution")),
                  _count_col(lang, "Signalements", "Referrals")), tuple(rows), lang)


def referrals_by_kind(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["referred_by_kind"], tuple(KINDS), lambda k: _kind(k, lang))
    rows.append(Row((words(lang, "Total", "Total"), f["referred"])))
    return Table("referrals_by_kind", words(lang, "Signalements par genre d'institution",
                                         "Referrals by kind of institution"),
                 (Column("kind", words(lang, "Genre", "Kind")),
                  _count_col(lang, "Signalements", "Referrals")), tuple(rows), lang)


def triage(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((words(lang, "Retenus à l'examen d'entrée", "Accepted at triage"),
                 f["accepted_at_triage"])),
            Row((words(lang, "Refusés à l'examen d'entrée", "Refused at triage"),
                 f["refused_at_triage"])),
            *_by(f["refused_at_triage_by_state"], t.state_order, lambda k: t.state(k, lang), 1)]
    return Table("triage", words(lang, "Examen d'entrée : retenus et refusés",
                              "Triage: accepted and refused"),
                 (Column("decision", words(lang, "Décision", "Decision")), _count_col(lang)),
                 tuple(rows), lang)


def open_by_state(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["open_by_state"], t.state_order, lambda k: t.state(k, lang))
    rows.append(Row((words(lang, "Total", "Total"), f["open"])))
    return Table("open_by_state", words(lang, "Cas ouverts par étape (à la fin de la période)",
                                     "Open cases by stage (at the end of the period)"),
                 (Column("state", words(lang, "Étape", "Stage")), _count_col(lang, "Cas", "Cases")),
                 tuple(rows), lang)


def closed_by_outcome(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [*_by(f["closed_by_outcome"], t.outcome_order, lambda k: t.outcome(k, lang)),
            *_by(f["closed_without_outcome_by_state"], t.state_order,
                 lambda k: f"{t.state(k, lang)} ({words(lang, 'sans issue', 'no outcome')})"),
            Row((words(lang, "Total", "Total"), f["closed"]))]
    return Table("closed_by_outcome", words(lang, "Clôtures par issue", "Closures by outcome"),
                 (Column("outcome", words(lang, "Issue", "Outcome")),
                  _count_col(lang, "Cas", "Cases")), tuple(rows), lang)


def durations(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    stays = f["durations"]
    rows = [Row((t.state(k, lang), stays[k]["stays"], stays[k]["median_days"],
                 stays[k]["p90_days"])) for k in ordered(stays, t.state_order)]
    return Table("durations", words(lang, "Durée par étape (jours civils)",
                                 "Time per stage (calendar days)"),
                 (Column("state", words(lang, "Étape", "Stage")),
                  _count_col(lang, "Séjours terminés", "Stays ended"),
                  Column("median_days", words(lang, "Médiane (jours)", "Median (days)"), "days"),
                  Column("p90_days", words(lang, "90e centile (jours)", "90th percentile (days)"),
                         "days")), tuple(rows), lang,
                 words(lang, "Séjours terminés dans la période ; étapes d'au moins 5 séjours.",
                    "Stays that ended in the period; stages with at least 5 stays."))


def deadline_breaches(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["deadline_breaches_by_state"], t.state_order, lambda k: t.state(k, lang))
    rows.append(Row((words(lang, "Total", "Total"), f["deadline_breaches"])))
    return Table("deadline_breaches", words(lang, "Délais dépassés par étape",
                                         "Deadline breaches by stage"),
                 (Column("state", words(lang, "Étape", "Stage")),
                  _count_col(lang, "Dépassements", "Breaches")), tuple(rows), lang,
                 words(lang, "Rappels, escalades et transferts échus.",
                    "Reminders, escalations and expired handoffs."))


def transfers(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((_kind(m["from"], lang), _kind(m["to"], lang), m["count"]))
            for m in f["transfers_between_kinds"]]
    rows.append(Row((words(lang, "Total", "Total"), "", f["transfers"])))
    return Table("transfers", words(lang, "Changements de responsable entre genres d'institution",
                                 "Changes of lead between kinds of institution"),
                 (Column("from", words(lang, "De", "From")), Column("to", words(lang, "À", "To")),
                  _count_col(lang, "Transferts", "Transfers")), tuple(rows), lang)


def handoffs(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = (Row((words(lang, "Changements de responsable", "Changes of lead"), f["transfers"])),
            Row((words(lang, "Transferts refusés", "Refused handoffs"), f["refused_handoffs"])),
            Row((words(lang, "Escalades à la coordination", "Escalations to the coordination"),
                 f["escalations"])),
            Row((words(lang, "Cas « tourniquet »", "Revolving-door cases"),
                 f["revolving_door_cases"])))
    return Table("handoffs", words(lang, "Transferts, refus, escalades et effet tourniquet",
                                "Handoffs, refusals, escalations and the revolving door"),
                 (Column("indicator", words(lang, "Indicateur", "Indicator")), _count_col(lang)),
                 rows, lang)


BUILDERS: tuple[Builder, ...] = (review, referrals_by_institution, referrals_by_kind, triage,
                                 open_by_state, closed_by_outcome, durations,
                                 deadline_breaches, transfers, handoffs)


def steering_tables(indicators: dict[str, Any], titles: Titles, lang: Lang = "fr"
                    ) -> list[Table]:
    """Every table of one indicators answer, in ``lang`` ("fr" or "en")."""
    check_lang(lang)
    return [build(indicators, titles, lang) for build in BUILDERS]
