"""The steering tables of one indicators answer (``cases.steering.indicators``), in one
language. Each builder reads only published counts and keeps them as they are ("<5" too).
Definitions of what each figure counts: docs/architecture.md, "Steering figures"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from relais.i18n import tr

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
    rows = [Row((tr(lang, "Files signalled"), f["referred"])),
            Row((tr(lang, "In follow-up (at the end of the period)"), f["open"])),
            Row((words(lang, "Situations clôturées", "Closed"), f["closed"])),
            Row((tr(lang, "Outcomes at closure (solutions found and other outcomes)"),
                 f["closed_with_outcome"])),
            *_by(outcomes, t.outcome_order, lambda k: t.outcome(k, lang), level=1),
            Row((tr(lang, "Outside the criteria (not taken on)"), f["outside_criteria"])),
            *_by(f["closed_without_outcome_by_state"], t.state_order,
                 lambda k: t.state(k, lang), level=1)]
    return Table("review", tr(lang, "Indicators (as in the Neuchâtel review)"),
                 (Column("indicator", tr(lang, "Indicator")), _count_col(lang)),
                 tuple(rows), lang,
                 tr(lang, "Each count is rounded to 5 from the exact count: the detail rows do not "
                    "always add up to their total."))


def referrals_by_institution(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((code, t.institution(code, lang), n)) for code, n in f["referred_by"].items()]
    rows.append(Row((tr(lang, "Total"), "", f["referred"])))
    return Table("referrals_by_institution", tr(lang, "Referrals by source institution"),
                 (Column("code", tr(lang, "Code")),
                  Column("institution", tr(lang, "Institution")),
                  _count_col(lang, "Signalements", "Referrals")), tuple(rows), lang)


def referrals_by_kind(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["referred_by_kind"], tuple(KINDS), lambda k: _kind(k, lang))
    rows.append(Row((tr(lang, "Total"), f["referred"])))
    return Table("referrals_by_kind", tr(lang, "Referrals by kind of institution"),
                 (Column("kind", words(lang, "Genre", "Kind")),
                  _count_col(lang, "Signalements", "Referrals")), tuple(rows), lang)


def triage(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((tr(lang, "Accepted at triage"),
                 f["accepted_at_triage"])),
            Row((tr(lang, "Refused at triage"),
                 f["refused_at_triage"])),
            *_by(f["refused_at_triage_by_state"], t.state_order, lambda k: t.state(k, lang), 1)]
    return Table("triage", tr(lang, "Triage: accepted and refused"),
                 (Column("decision", tr(lang, "Decision")), _count_col(lang)),
                 tuple(rows), lang)


def open_by_state(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["open_by_state"], t.state_order, lambda k: t.state(k, lang))
    rows.append(Row((tr(lang, "Total"), f["open"])))
    return Table("open_by_state", tr(lang, "Open cases by stage (at the end of the period)"),
                 (Column("state", tr(lang, "Stage")), _count_col(lang, "Cas", "Cases")),
                 tuple(rows), lang)


def closed_by_outcome(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [*_by(f["closed_by_outcome"], t.outcome_order, lambda k: t.outcome(k, lang)),
            *_by(f["closed_without_outcome_by_state"], t.state_order,
                 lambda k: f"{t.state(k, lang)} ({tr(lang, 'no outcome')})"),
            Row((tr(lang, "Total"), f["closed"]))]
    return Table("closed_by_outcome", tr(lang, "Closures by outcome"),
                 (Column("outcome", tr(lang, "Outcome")),
                  _count_col(lang, "Cas", "Cases")), tuple(rows), lang)


def durations(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    stays = f["durations"]
    rows = [Row((t.state(k, lang), stays[k]["stays"], stays[k]["median_days"],
                 stays[k]["p90_days"])) for k in ordered(stays, t.state_order)]
    return Table("durations", tr(lang, "Time per stage (calendar days)"),
                 (Column("state", tr(lang, "Stage")),
                  _count_col(lang, "Séjours terminés", "Stays ended"),
                  Column("median_days", tr(lang, "Median (days)"), "days"),
                  Column("p90_days", tr(lang, "90th percentile (days)"),
                         "days")), tuple(rows), lang,
                 tr(lang, "Stays that ended in the period; stages with at least 5 stays."))


def deadline_breaches(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = _by(f["deadline_breaches_by_state"], t.state_order, lambda k: t.state(k, lang))
    rows.append(Row((tr(lang, "Total"), f["deadline_breaches"])))
    return Table("deadline_breaches", tr(lang, "Deadline breaches by stage"),
                 (Column("state", tr(lang, "Stage")),
                  _count_col(lang, "Dépassements", "Breaches")), tuple(rows), lang,
                 tr(lang, "Reminders, escalations and expired handoffs."))


def transfers(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = [Row((_kind(m["from"], lang), _kind(m["to"], lang), m["count"]))
            for m in f["transfers_between_kinds"]]
    rows.append(Row((tr(lang, "Total"), "", f["transfers"])))
    return Table("transfers", tr(lang, "Changes of lead between kinds of institution"),
                 (Column("from", words(lang, "De", "From")), Column("to", tr(lang, "To")),
                  _count_col(lang, "Transferts", "Transfers")), tuple(rows), lang)


def handoffs(f: dict[str, Any], t: Titles, lang: Lang) -> Table:
    rows = (Row((tr(lang, "Changes of lead"), f["transfers"])),
            Row((tr(lang, "Refused handoffs"), f["refused_handoffs"])),
            Row((tr(lang, "Escalations to the coordination"),
                 f["escalations"])),
            Row((tr(lang, "Revolving-door cases"),
                 f["revolving_door_cases"])))
    return Table("handoffs", tr(lang, "Handoffs, refusals, escalations and the revolving door"),
                 (Column("indicator", tr(lang, "Indicator")), _count_col(lang)),
                 rows, lang)


BUILDERS: tuple[Builder, ...] = (review, referrals_by_institution, referrals_by_kind, triage,
                                 open_by_state, closed_by_outcome, durations,
                                 deadline_breaches, transfers, handoffs)


def steering_tables(indicators: dict[str, Any], titles: Titles, lang: Lang = "fr"
                    ) -> list[Table]:
    """Every table of one indicators answer, in ``lang`` ("fr" or "en")."""
    check_lang(lang)
    return [build(indicators, titles, lang) for build in BUILDERS]
