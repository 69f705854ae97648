"""The CMFP cohort: exactly the shape of the Neuchâtel review (2009–2013) over the 4½ years
up to the end of the history. 383 files referred, 256 closed (157 solutions, 99 outside the
criteria), 127 still followed at the end; no other closure in the period."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from relais.cases.domain.actors import Actor
from relais.workflows.engine.durations import add_months

from .agent import CaseFlow
from .measures import CMFP_TYPES, Placements
from .people import STAFF, People
from .scheduler import Agent, Sim

REVIEW_MONTHS = 54
SOLUTIONS = {"cfc_afp": 28, "apprentissage": 57, "emploi": 14, "structure_adaptee": 58}
OUTSIDE = 99
FOLLOWED = 127
REFERRED = sum(SOLUTIONS.values()) + OUTSIDE + FOLLOWED  # 383
MONTHS = {"cfc_afp": (22, 44), "apprentissage": (4, 14), "emploi": (3, 12),
          "structure_adaptee": (5, 18)}  # from the referral to the closure
MONTH = timedelta(days=30.44)
REFERRERS = [(STAFF.ofij, 30), (STAFF.ssr, 13), (STAFF.ssr_lcf, 12), (STAFF.orp, 11),
             (STAFF.orp_lcf, 9), (STAFF.smig, 15), (STAFF.oai, 10)]
OUTSIDE_WHY = {"age": "Plus de 35 ans : hors critères du CMFP / over 35",
               "problematiques_multiples": "Pas de problématiques multiples : orientation "
               "professionnelle suffit / no multiple problems",
               "suivi_deja_assure": "Suivi déjà assuré par le réseau / already followed"}
CLOSING = {"cfc_afp": "Titre obtenu en fin de formation / certificate obtained",
           "apprentissage": "Contrat d'apprentissage signé, autonome / apprenticeship started",
           "emploi": "Engagé(e) en emploi fixe / in a job",
           "structure_adaptee": "Intégré(e) dans une structure adaptée / adapted structure"}
REFUSED = ["Dossier incomplet : bulletins scolaires manquants / school reports missing",
           "Situation à clarifier avec l'école d'abord / to clarify with the school first",
           "Consentement du représentant légal manquant / legal guardian's consent missing"]


def review_period(until: date) -> tuple[date, date]:
    """The review's period, in Swiss dates inclusive: the 4½ years before ``until``."""
    return add_months(until, -REVIEW_MONTHS), until - timedelta(days=1)


@dataclass
class Plan:
    at: datetime
    referrer: Actor
    fate: str  # an outcome of the review, "non_retenu", or "open"
    months: float = 0.0
    bilan_ai: bool = False
    why: str = ""


def referral_days(sim: Sim, n: int, first: date, last: date) -> list[date]:
    """``n`` working days in ``[first, last]``, more at the end of the school year."""
    days, day = [], sim.cal.on_or_after(first)
    while day <= last:
        days.append(day)
        day = sim.cal.add_working_days(day, 1)
    weights = [1.6 if d.month in (6, 7, 8, 9) else 1.0 for d in days]
    return sorted(sim.rng.choices(days, weights, k=n))


def plans(sim: Sim, until: date) -> list[Plan]:
    rng = sim.rng
    first, last = review_period(until)
    referrers, weights = zip(*REFERRERS, strict=True)
    out = [Plan(sim.office(d), rng.choices(referrers, weights)[0], "open")
           for d in referral_days(sim, REFERRED, first, last)]
    end = sim.until
    early = [p for p in out if p.at < end - timedelta(days=45)]
    for p in rng.sample(early, OUTSIDE):
        p.fate, p.why = "non_retenu", rng.choice(list(OUTSIDE_WHY))
    wanted = [(o, rng.uniform(*MONTHS[o])) for o, n in SOLUTIONS.items() for _ in range(n)]
    for outcome, months in sorted(wanted, key=lambda w: -w[1]):
        free = [p for p in out if p.fate == "open"]
        fits = [p for p in free if p.at + (months + 0.7) * MONTH < end]
        if fits:  # the older of two: the cases still followed at the end are mostly recent
            p = min(rng.choice(fits), rng.choice(fits), key=lambda p: p.at)
        else:
            p = free[0]
            months = (end - p.at) / MONTH - 0.7
        p.fate, p.months = outcome, months
    for p in out:
        p.bilan_ai = p.fate != "non_retenu" and rng.random() < (
            0.7 if p.fate == "structure_adaptee" else 0.12)
    return out


def _fields(rng: random.Random, plan: Plan) -> tuple[int, dict[str, Any]]:
    age = rng.randint(15, 24) if rng.random() < 0.85 else rng.randint(25, 34)
    fields: dict[str, Any] = {"problematiques_multiples": True, "suivi_deja_assure": False,
                              "statut_sejour": "suisse"}
    if plan.referrer is STAFF.smig:
        fields["statut_sejour"] = rng.choice(["admission_provisoire", "refugie", "permis_b"])
    elif rng.random() < 0.25:
        fields["statut_sejour"] = rng.choice(["permis_c", "permis_b"])
    if plan.why == "age":
        age = rng.randint(36, 41)
    elif plan.why:
        fields[plan.why] = plan.why == "suivi_deja_assure"
    return age, {**fields, "age": age}


def agent(sim: Sim, plan: Plan, people: People, placements: Placements) -> Agent:
    rng, ofij = sim.rng, STAFF.ofij
    f = CaseFlow(sim)
    age, fields = _fields(rng, plan)
    foreign = 0.9 if plan.referrer is STAFF.smig else 0.3
    f.open("cmfp", people.person(age, sim.today(), foreign=foreign), plan.referrer, fields,
           "Rupture de formation / training broken off")
    yield from f.in_time(0.03, share=(0.05, 0.4))
    if plan.referrer is ofij:
        f.fire("transmettre", ofij)
    elif not (yield from f.handoff(lambda _: f.fire("transmettre", plan.referrer),
                                   refuse=0.12, reasons=REFUSED, expire=0.03)):
        f.fire("transmettre", ofij)  # the coordination made the CMFP the lead
    yield from f.in_time(0.08)  # the entry check
    if plan.fate == "non_retenu":
        f.fire("ecarter", ofij, reason=OUTSIDE_WHY[plan.why])
        return
    f.fire("admettre", ofij)
    yield from f.in_time(0.06)
    f.fire("accompagner", ofij)
    placements.begin(f, CMFP_TYPES)  # some adults get a place in a programme
    end = plan.at + plan.months * MONTH if plan.fate != "open" else None
    if plan.bilan_ai:
        horizon = (end or f.case.opened_at + 30 * MONTH) - sim.now
        yield from f.keep_up(sim.now + horizon * rng.uniform(0.15, 0.6), resume="accompagner",
                             review_state="plan_individuel", actor=lambda: ofij)
        if f.case.state == "plan_individuel":
            f.fire("accompagner", ofij, reason="Plan revu / plan reviewed")
        f.fire("demander_bilan_ai", ofij, reason="Troubles de l'apprentissage suspectés / "
                                                 "learning difficulties suspected")
        yield from f.in_time(0.12, share=(0.4, 0.95))
        f.fire("bilan_rendu", STAFF.oai)
    yield from f.keep_up(end, resume="accompagner", review_state="plan_individuel",
                         actor=lambda: ofij)
    f.fire("cloturer", ofij, outcome=plan.fate, reason=CLOSING[plan.fate])
    placements.close(f, "Cas clos / case closed")
